// Issue 3, "Proof": the delivery engine on real NATS, Redis and Postgres, with consumer processes exactly as
// deployed, against a private provider sandbox, under crashes, provider errors and a bucket-store outage.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "./support/cluster";
import {
  addressFor,
  batchRow,
  createQueuedBatch,
  createSendConfig,
  createTenant,
  recipientStatusCounts,
  type TestProvider,
  UNTHROTTLED_RATES,
} from "./support/fixtures";
import { waitFor } from "./support/stack";

const SENDER_CONCURRENCY = 8;
// Generous managed limits: these tests are about correctness under faults, not pacing (bench:send is).
const cluster = new Cluster({
  SENDER_CONCURRENCY: String(SENDER_CONCURRENCY),
  ...UNTHROTTLED_RATES,
  LOG_LEVEL: "warn",
});

beforeAll(async () => {
  await cluster.start();
}, 60_000);
afterAll(() => cluster.stop(), 60_000);

async function sandboxConfig(body: unknown) {
  const res = await fetch(`${cluster.sandbox.url}/_sandbox/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.ok).toBe(true);
}

async function newBatch(provider: TestProvider, count: number, opts: { offset?: number } = {}) {
  const tenantId = await createTenant(cluster.pool, `faults-${provider}`);
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, provider);
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider, count, ...opts });
  return { tenantId, batchId };
}

async function waitCompleted(batchId: string, timeoutMs = 240_000) {
  return waitFor(
    `batch ${batchId} completed`,
    async () => {
      const b = await batchRow(cluster.pool, batchId);
      return b.status === "completed" ? b : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Messages the sandbox recorded per recipient address for one batch. */
function deliveriesPerAddress(batchId: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const m of cluster.sandbox.messages({ batchId })) seen.set(m.to, (seen.get(m.to) ?? 0) + 1);
  return seen;
}

describe("delivery engine under faults", () => {
  it("kill -9 of a consumer at five random moments loses nobody; no duplicates at Resend and Telnyx, SES bounded", async () => {
    await cluster.sandbox.reset();
    await sandboxConfig({ latencyMs: 15 });
    const consumers = [await cluster.startConsumer(), await cluster.startConsumer()];
    const batches = {
      ses: await newBatch("ses", 1500),
      resend: await newBatch("resend", 3000),
      telnyx: await newBatch("telnyx", 1500),
    };
    for (const b of Object.values(batches)) await cluster.plan(b.batchId, b.tenantId);

    const kills: { at: number; pid: number | undefined }[] = [];
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
      const victim = consumers.splice(Math.floor(Math.random() * consumers.length), 1)[0]!;
      kills.push({ at: Date.now(), pid: victim.child.pid });
      await cluster.kill(victim, "SIGKILL");
      consumers.push(await cluster.startConsumer());
    }

    for (const [provider, b] of Object.entries(batches)) {
      const done = await waitCompleted(b.batchId, 300_000);
      expect(done, provider).toMatchObject({ sent: done.total, failed: 0, queued: 0 });
      expect(await recipientStatusCounts(cluster.pool, b.batchId), provider).toEqual({ sent: done.total });
      const per = deliveriesPerAddress(b.batchId);
      expect(per.size, `${provider}: every recipient reached the provider`).toBe(done.total);
      const duplicates = [...per.values()].reduce((n, c) => n + (c - 1), 0);
      if (provider === "ses") {
        // SES has no idempotency key: a call in flight when its process died may be sent again.
        console.log(`SES duplicates after ${kills.length} kill -9: ${duplicates} (bound ${kills.length * SENDER_CONCURRENCY})`);
        expect(duplicates).toBeLessThanOrEqual(kills.length * SENDER_CONCURRENCY);
      } else {
        expect(duplicates, `${provider} duplicates`).toBe(0);
      }
    }
    await sandboxConfig({ latencyMs: 0 });
    for (const c of consumers) await cluster.kill(c, "SIGTERM");
  }, 600_000);

  it("20% injected 429/5xx: every recipient ends sent, none failed", async () => {
    await cluster.sandbox.reset();
    await sandboxConfig({
      faults: [
        { kind: "throttle", probability: 0.1 },
        { kind: "server_error", probability: 0.1 },
      ],
    });
    const consumer = await cluster.startConsumer();
    const ses = await newBatch("ses", 400);
    const resend = await newBatch("resend", 400);
    await cluster.plan(ses.batchId, ses.tenantId);
    await cluster.plan(resend.batchId, resend.tenantId);
    for (const b of [ses, resend]) {
      const done = await waitCompleted(b.batchId);
      expect(done).toMatchObject({ sent: 400, failed: 0 });
      expect(deliveriesPerAddress(b.batchId).size).toBe(400);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${consumer.port}/metrics`)).text();
    expect(metrics).toMatch(/retr/i);
    await sandboxConfig({ faults: [] });
    await cluster.kill(consumer, "SIGTERM");
  }, 300_000);

  it("permanent rejections fail exactly those recipients, with the provider's reason", async () => {
    await cluster.sandbox.reset();
    const rejected = [3, 17, 42].map((i) => addressFor("ses", i));
    await sandboxConfig({ faults: rejected.map((to) => ({ kind: "reject", to })) });
    const consumer = await cluster.startConsumer();
    const b = await newBatch("ses", 100);
    await cluster.plan(b.batchId, b.tenantId);
    const done = await waitCompleted(b.batchId);
    expect(done).toMatchObject({ sent: 97, failed: 3 });
    const { rows } = await cluster.pool.query<{ address: string; last_error: string }>(
      "select address, last_error from recipients where batch_id = $1 and status = 'failed' order by address",
      [b.batchId],
    );
    expect(rows.map((r) => r.address).sort()).toEqual([...rejected].sort());
    for (const r of rows) expect(r.last_error).toMatch(/reject/i);
    await sandboxConfig({ faults: [] });
    await cluster.kill(consumer, "SIGTERM");
  }, 300_000);

  it("Redis stopped for 10 s mid-batch: sending pauses, then completes with no failures", async () => {
    await cluster.sandbox.reset();
    await sandboxConfig({ latencyMs: 10 });
    const consumer = await cluster.startConsumer();
    const b = await newBatch("ses", 2000);
    await cluster.plan(b.batchId, b.tenantId);
    await waitFor("first sends", async () => cluster.sandbox.messages({ batchId: b.batchId }).length > 100, 60_000, 50);
    await cluster.stopRedis();
    await new Promise((r) => setTimeout(r, 1500)); // calls already holding tokens may finish
    const during = cluster.sandbox.messages({ batchId: b.batchId }).length;
    await new Promise((r) => setTimeout(r, 8500));
    const after = cluster.sandbox.messages({ batchId: b.batchId }).length;
    expect(after, "no provider call without tokens while the bucket store is down").toBe(during);
    expect(during).toBeLessThan(2000);
    await cluster.startRedis();
    const done = await waitCompleted(b.batchId);
    expect(done).toMatchObject({ sent: 2000, failed: 0 });
    expect(deliveriesPerAddress(b.batchId).size).toBe(2000);
    await sandboxConfig({ latencyMs: 0 });
    await cluster.kill(consumer, "SIGTERM");
  }, 300_000);
});
