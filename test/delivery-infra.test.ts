// Issue 6, scenarios 2 and 3 ("Proof"): consumer processes exactly as deployed, their Postgres connections
// going through a TCP proxy the test cuts. A database outage must neither spend a chunk's deliveries
// (recipients stranded `queued`/`sending` in a batch that never completes) nor hand back recipients a
// provider already accepted (sent again when the result write failed).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { consumerSpecs, streams } from "../core/contract";
import { Cluster, type ConsumerProc } from "./support/cluster";
import { batchRow, createQueuedBatch, createSendConfig, createTenant, recipientStatusCounts, type TestProvider } from "./support/fixtures";
import { waitFor } from "./support/stack";
import { TcpProxy, viaProxy } from "./support/tcp-proxy";

const cluster = new Cluster({
  SENDER_CONCURRENCY: "8",
  // Slow enough that every batch is still sending when the database goes away.
  MANAGED_SES_RPS: "40",
  MANAGED_RESEND_RPS: "2",
  MANAGED_TELNYX_RPS: "40",
  TENANT_SEND_RPS: "100000",
  LOG_LEVEL: "warn",
});
let proxy: TcpProxy;

beforeAll(async () => {
  await cluster.start();
  const db = new URL(cluster.databaseUrl);
  proxy = await new TcpProxy({ host: db.hostname, port: Number(db.port || 5432) }).start();
}, 60_000);
afterAll(async () => {
  await cluster.stop();
  await proxy?.close();
}, 60_000);

/** Messages of this region's durables that were delivered more than once and are not yet acked. */
async function redelivered() {
  const jsm = await jetstreamManager(cluster.nc);
  const n = async (stream: string, durable: string) => (await jsm.consumers.info(stream, durable)).num_redelivered;
  return {
    planner: await n(streams.batches.name, consumerSpecs.planner("falkenstein").durable),
    email: await n(streams.sends.name, consumerSpecs.sender("falkenstein", "email").durable),
    sms: await n(streams.sends.name, consumerSpecs.sender("falkenstein", "sms").durable),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sandboxConfig(body: unknown) {
  const res = await fetch(`${cluster.sandbox.url}/_sandbox/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.ok).toBe(true);
}

function startConsumerViaProxy(env: Record<string, string> = {}): Promise<ConsumerProc> {
  return cluster.startConsumer("falkenstein", { DATABASE_URL: viaProxy(cluster.databaseUrl, proxy), ...env });
}

async function newBatch(provider: TestProvider, count: number) {
  const tenantId = await createTenant(cluster.pool, `infra-${provider}`);
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, provider);
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider, count });
  return { provider, tenantId, batchId, count };
}

const sentAtSandbox = (batchId: string) => cluster.sandbox.messages({ batchId }).length;

/** Completed, every recipient `sent`, nothing left queued/sending, and each address received exactly once. */
async function expectExactlyOnce(b: { provider: TestProvider; batchId: string; count: number }) {
  const row = await waitFor(
    `${b.provider} batch ${b.batchId} completed`,
    async () => {
      const r = await batchRow(cluster.pool, b.batchId);
      return r.status === "completed" ? r : undefined;
    },
    180_000,
    250,
  );
  expect(row, b.provider).toMatchObject({ total: b.count, sent: b.count, failed: 0, queued: 0 });
  expect(await recipientStatusCounts(cluster.pool, b.batchId), b.provider).toEqual({ sent: b.count });
  const perAddress = new Map<string, number>();
  for (const m of cluster.sandbox.messages({ batchId: b.batchId })) perAddress.set(m.to, (perAddress.get(m.to) ?? 0) + 1);
  const duplicates = [...perAddress.values()].filter((n) => n > 1).length;
  console.log(`${b.provider}: ${perAddress.size} addresses reached, ${duplicates} duplicated`);
  expect(perAddress.size, b.provider).toBe(b.count);
  expect(duplicates, `${b.provider} duplicates`).toBe(0);
}

describe("delivery under a Postgres outage", () => {
  it("Postgres cut for 3 minutes mid-batch: SES, Resend and Telnyx all end sent exactly once, nothing stranded", async () => {
    cluster.sandbox.reset();
    await sandboxConfig({ latencyMs: 20 });
    const consumer = await startConsumerViaProxy();
    const batches = [await newBatch("ses", 300), await newBatch("resend", 1000), await newBatch("telnyx", 300)];
    for (const b of batches) await cluster.plan(b.batchId, b.tenantId);
    await waitFor("every batch sending", async () => batches.every((b) => sentAtSandbox(b.batchId) >= Math.min(100, b.count / 10)), 60_000, 50);

    proxy.cut();
    const atCut = batches.map((b) => sentAtSandbox(b.batchId));
    await sleep(180_000);
    // The outage spent no delivery: nothing was redelivered (a nak or an expired ack wait would show here),
    // nothing sent beyond the calls already in flight, and the consumer lived through it.
    expect(await redelivered()).toEqual({ planner: 0, email: 0, sms: 0 });
    expect(consumer.child.exitCode).toBeNull();
    for (const b of batches) expect(sentAtSandbox(b.batchId), b.provider).toBeLessThan(b.count);
    console.log(`sent at cut: ${atCut.join(", ")}; after 3 min: ${batches.map((b) => sentAtSandbox(b.batchId)).join(", ")}`);
    proxy.restore();

    for (const b of batches) await expectExactlyOnce(b);
    expect((await jetstreamManager(cluster.nc).then((m) => m.streams.info(streams.dlq.name))).state.messages).toBe(0);
    const log = fs.readFileSync(consumer.logFile, "utf8");
    expect(log).toMatch(/infrastructure error; waiting and retrying in-process|failed; retrying/);
    await cluster.kill(consumer, "SIGTERM");
  }, 420_000);

  it("result writes failing for 20 s right after the provider accepted: zero duplicates", async () => {
    cluster.sandbox.reset();
    // 100 ms per call and a generous rate keep all 8 chunks with a call in flight at any moment, so the cut
    // lands between "provider accepted" and "result recorded" for several of them.
    await sandboxConfig({ latencyMs: 100 });
    const consumer = await startConsumerViaProxy({ MANAGED_SES_RPS: "2000" });
    const b = await newBatch("ses", 1500);
    await cluster.plan(b.batchId, b.tenantId);
    await waitFor("SES batch sending", async () => sentAtSandbox(b.batchId) >= 300, 60_000, 5);

    proxy.cut();
    await sleep(20_000);
    proxy.restore();

    await expectExactlyOnce(b);
    // The path under test was taken: writes of accepted results failed and were retried, not released.
    expect(fs.readFileSync(consumer.logFile, "utf8")).toMatch(/result write failed; retrying/);
    await cluster.kill(consumer, "SIGTERM");
  }, 240_000);
});
