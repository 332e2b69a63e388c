// Issue 3: scale, graceful shutdown, dry runs and regions, with consumer processes exactly as deployed on a
// private cluster (own NATS, Redis and sandbox; the shared test Postgres).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "./support/cluster";
import { batchRow, createQueuedBatch, createSendConfig, createTenant, recipientStatusCounts, type TestProvider } from "./support/fixtures";
import { waitFor } from "./support/stack";

const cluster = new Cluster({ LOG_LEVEL: "warn" });
beforeAll(async () => {
  await cluster.start();
}, 60_000);
afterAll(() => cluster.stop(), 60_000);

async function newBatch(provider: TestProvider, count: number, opts: { region?: "falkenstein" | "ashburn"; dryRun?: boolean } = {}) {
  const tenantId = await createTenant(cluster.pool, `engine-${provider}`);
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, provider);
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider, count, ...opts });
  return { tenantId, batchId };
}

const completed = (batchId: string, timeoutMs = 240_000) =>
  waitFor(`batch ${batchId} completed`, async () => {
    const b = await batchRow(cluster.pool, batchId);
    return b.status === "completed" ? b : undefined;
  }, timeoutMs, 250);

/** Sum of a Prometheus counter over every series whose labels contain `labels`; throws if it is not exported. */
async function metric(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  if (!text.includes(`# TYPE ${name} `)) throw new Error(`metric ${name} is not exported`);
  return text
    .split("\n")
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

describe("delivery engine", () => {
  it("completes a 100,000-recipient batch; the provider saw every recipient exactly once", async () => {
    await cluster.sandbox.reset();
    const consumer = await cluster.startConsumer("falkenstein");
    const b = await newBatch("resend", 100_000);
    await cluster.plan(b.batchId, b.tenantId);
    const done = await completed(b.batchId, 600_000);
    expect(done).toMatchObject({ total: 100_000, sent: 100_000, failed: 0, queued: 0 });
    expect(await recipientStatusCounts(cluster.pool, b.batchId)).toEqual({ sent: 100_000 });
    const msgs = cluster.sandbox.messages({ batchId: b.batchId });
    expect(msgs).toHaveLength(100_000);
    expect(new Set(msgs.map((m) => m.recipientId)).size).toBe(100_000);
    await cluster.kill(consumer, "SIGTERM");
  }, 900_000);

  it("SIGTERM stops intake and releases in-flight claims within 30 s; another consumer finishes without duplicates", async () => {
    await cluster.sandbox.reset();
    await fetch(`${cluster.sandbox.url}/_sandbox/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ latencyMs: 30 }),
    });
    const first = await cluster.startConsumer("falkenstein");
    const b = await newBatch("ses", 1500);
    await cluster.plan(b.batchId, b.tenantId);
    await waitFor("sending started", async () => cluster.sandbox.messages({ batchId: b.batchId }).length > 100, 60_000, 50);

    const t0 = Date.now();
    const code = await cluster.kill(first, "SIGTERM");
    const drainMs = Date.now() - t0;
    expect(code).toBe(0);
    expect(drainMs).toBeLessThan(30_000);
    const { rows } = await cluster.pool.query<{ n: number }>(
      "select count(*)::int as n from recipients where batch_id = $1 and status = 'sending'",
      [b.batchId],
    );
    expect(rows[0]!.n, "no claim left behind by the stopped consumer").toBe(0);
    expect(cluster.sandbox.messages({ batchId: b.batchId }).length).toBeLessThan(1500);

    const second = await cluster.startConsumer("falkenstein");
    const done = await completed(b.batchId);
    expect(done).toMatchObject({ sent: 1500, failed: 0 });
    const msgs = cluster.sandbox.messages({ batchId: b.batchId });
    expect(msgs).toHaveLength(1500);
    expect(new Set(msgs.map((m) => m.to)).size).toBe(1500);
    await fetch(`${cluster.sandbox.url}/_sandbox/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ latencyMs: 0 }) });
    await cluster.kill(second, "SIGTERM");
  }, 300_000);

  it("a dry run skips only the provider call and takes no managed-provider capacity", async () => {
    await cluster.sandbox.reset();
    // One managed SES send per second: 600 real sends would take ten minutes.
    const consumer = await cluster.startConsumer("falkenstein", { MANAGED_SES_RPS: "1", MANAGED_SES_RECIPIENTS_RPS: "1" });
    const b = await newBatch("ses", 600, { dryRun: true });
    await cluster.plan(b.batchId, b.tenantId);
    const done = await completed(b.batchId, 60_000);
    expect(done).toMatchObject({ sent: 600, failed: 0 });
    expect(cluster.sandbox.messages({ batchId: b.batchId })).toHaveLength(0);
    expect(await metric(consumer.port, "batchsender_bucket_waits_total", "")).toBe(0);
    await cluster.kill(consumer, "SIGTERM");
  }, 120_000);

  it("each region consumes only its own subjects: an Ashburn batch is sent by the Ashburn consumer", async () => {
    await cluster.sandbox.reset();
    const fsn = await cluster.startConsumer("falkenstein");
    const ash = await cluster.startConsumer("ashburn");
    const b = await newBatch("ses", 200, { region: "ashburn" });
    await cluster.plan(b.batchId, b.tenantId, "ashburn");
    await completed(b.batchId);
    expect(cluster.sandbox.messages({ batchId: b.batchId })).toHaveLength(200);
    expect(await metric(ash.port, "batchsender_sends_total", 'outcome="sent"')).toBe(200);
    expect(await metric(fsn.port, "batchsender_sends_total", 'outcome="sent"')).toBe(0);
    await cluster.kill(fsn, "SIGTERM");
    await cluster.kill(ash, "SIGTERM");
  }, 120_000);

  it("BYOK: opens the send config's sealed credentials and sends with the customer's own account, not the platform's", async () => {
    await cluster.sandbox.reset();
    const byok = { accessKeyId: "AKIACUSTOMERBYOK0001", secretAccessKey: "customer/own/ses/secret/key/000000000001" };
    await fetch(`${cluster.sandbox.url}/_sandbox/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { ses: [byok] } }),
    });
    const tenantId = await createTenant(cluster.pool, "engine-byok");
    // Sealed for this tenant, this config id and SES (the AAD binds all three).
    const sendConfigId = await createSendConfig(cluster.pool, tenantId, "ses", {
      name: "own SES",
      from: "Own <own@customer.example>",
      rateLimitPerSecond: 500,
      byok,
    });
    const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider: "ses", count: 50 });
    const consumer = await cluster.startConsumer("falkenstein");
    await cluster.plan(batchId, tenantId);
    await completed(batchId, 60_000);
    const msgs = cluster.sandbox.messages({ batchId });
    expect(msgs).toHaveLength(50);
    expect(new Set(msgs.map((m) => m.credential))).toEqual(new Set([byok.accessKeyId]));
    await cluster.kill(consumer, "SIGTERM");
  }, 120_000);
});
