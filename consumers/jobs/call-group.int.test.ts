// Issue 6, scenario 3: a re-plan must not regroup rows whose Resend batch call went unrecorded under a new
// `Idempotency-Key`. A consumer "dies" right after Resend accepted a batch call of 100 (the handler never
// returns, no lease extension); the rows' leases run out and a re-plan covers them with differently cut
// chunks. Every recipient must still reach the provider exactly once. Real NATS, Postgres and sandbox.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { streams, subjects } from "../../core/contract";
import { startSandbox } from "../../dev/sandbox/server";
import { createMetrics } from "../metrics";
import { ensureStreams } from "../nats/setup";
import { createRegistryFromConfig } from "../providers/platform";
import type { ProviderRegistry } from "../providers/registry";
import { quietLog, startTestNats, waitFor, type Sandbox } from "../testing/harness";
import { batchRow, createBatch, createTenantWithConfig, recipientStatusCounts, testConfig, testPool } from "../../test/support/fixtures";
import { BatchStatusCache } from "./batch-status";
import { handleSendChunk } from "./catalog";
import { ResultRecorder } from "./result-recorder";
import type { SendDeps } from "./send";

const pool = testPool();
let nats: Awaited<ReturnType<typeof startTestNats>>;
let sandbox: Sandbox;

beforeAll(async () => {
  nats = await startTestNats(20340 + Number(process.env.BATCHSENDER_TEST_INSTANCE ?? 0) * 10);
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
  const jsm = await jetstreamManager(nats.nc);
  await ensureStreams(jsm);
  await jsm.consumers.add(streams.sends.name, {
    durable_name: "call-group-test",
    filter_subject: subjects.send("falkenstein", "email"),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(600_000),
    max_deliver: 5,
  });
});

afterAll(async () => {
  await sandbox?.close();
  await nats?.stop();
  await pool.end();
});

function deps(providers: ProviderRegistry): SendDeps {
  return {
    db: pool,
    recorder: new ResultRecorder(pool),
    js: jetstream(nats.nc),
    log: quietLog,
    metrics: createMetrics(),
    statuses: new BatchStatusCache(pool),
    providers,
    bucketsFor: () => [],
    takeTokens: async () => undefined,
    stopping: () => false,
    signal: new AbortController().signal,
    maxDeliver: 5,
  };
}

describe("Resend batch idempotency across a re-plan", () => {
  it("rows of an accepted but unrecorded batch call are re-sent only as that exact call, however they are re-chunked", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "resend");
    const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "resend", count: 150, status: "processing" });
    const js = jetstream(nats.nc);
    const consumer = await js.consumers.get(streams.sends.name, "call-group-test");
    const real = createRegistryFromConfig(testConfig(nats.url, sandbox.url));
    const publish = (part: number[]) => js.publish(subjects.send("falkenstein", "email"), JSON.stringify({ batchId, tenantId, recipientIds: part }));

    // The process that dies: Resend accepts its batch call of ids[0..99], then nothing more happens.
    const dying: ProviderRegistry = {
      ...real,
      clientFor: async (row) => {
        const c = await real.clientFor(row);
        return { provider: c.provider, maxPerCall: c.maxPerCall, send: async (ms, signal) => (await c.send(ms, signal), new Promise(() => {})) };
      },
    };
    await publish(ids.slice(0, 100));
    const first = await consumer.next({ expires: 5000 });
    void handleSendChunk({ ...deps(dying), heartbeatMs: 1e9 }, first!);
    await waitFor("the batch call accepted", async () => sandbox.messages({ batchId }).length === 100);
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ sending: 100, queued: 50 });
    // Its leases run out; a re-plan covers the rows with differently cut chunks.
    await pool.query("update recipients set lease_until = now() - interval '1 second' where batch_id = $1 and status = 'sending'", [batchId]);
    await publish(ids.slice(50, 150));
    await publish(ids.slice(0, 50));

    for (let i = 0; i < 2; i++) {
      const msg = await consumer.next({ expires: 5000 });
      expect(await handleSendChunk(deps(real), msg!)).toBe("ack");
    }
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ sent: 150 });
    expect(await batchRow(pool, batchId)).toMatchObject({ status: "completed", sent: 150, queued: 0 });
    const perAddress = new Map<string, number>();
    for (const m of sandbox.messages({ batchId })) perAddress.set(m.to, (perAddress.get(m.to) ?? 0) + 1);
    expect(perAddress.size).toBe(150);
    expect([...perAddress.entries()].filter(([, n]) => n > 1)).toEqual([]);
  });
});
