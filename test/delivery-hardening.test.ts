// Issue 6, scenarios 2 (reconciler), 4 (fairness, bounded cancel), 5 (pause/resume floods) and 6 (suppression
// at claim time): real consumer processes on a private cluster (own NATS, Redis, sandbox), the test Postgres,
// and the edge's own control verbs (edge/services/batches/control-batch.ts) called with a node-postgres
// drizzle handle, exactly the SQL the Worker runs.
import { jetstream } from "@nats-io/jetstream";
import { drizzle } from "drizzle-orm/node-postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Region } from "../core/contract";
import * as schema from "../core/db/schema";
import { Cluster, type ConsumerProc } from "./support/cluster";
import { addressFor, batchRow, createQueuedBatch, createSendConfig, createTenant, recipientStatusCounts, type TestProvider } from "./support/fixtures";
import { waitFor } from "./support/stack";

const cluster = new Cluster({ LOG_LEVEL: "warn", SENDER_CONCURRENCY: "8", RECONCILE_INTERVAL_MS: "200" });
let started: ConsumerProc[] = [];

// The edge's verbs are typechecked by the edge project (Workers types); this Node project loads them untyped.
type Verb = (a: { ctx: unknown; input: { batchId: string } }) => Promise<{ batch: { status: string } }>;
const CONTROL_VERBS = "../edge/services/batches/control-batch";
let cancelBatch: Verb;
let pauseBatch: Verb;
let resumeBatch: Verb;

beforeAll(async () => {
  ({ cancelBatch, pauseBatch, resumeBatch } = (await import(/* @vite-ignore */ CONTROL_VERBS)) as { cancelBatch: Verb; pauseBatch: Verb; resumeBatch: Verb });
  await cluster.start();
}, 60_000);
afterEach(async () => {
  for (const c of started) await cluster.kill(c, "SIGKILL");
  started = [];
});
afterAll(() => cluster.stop(), 60_000);

async function consumer(env: Record<string, string>): Promise<ConsumerProc> {
  const c = await cluster.startConsumer("falkenstein", env);
  started.push(c);
  return c;
}

/** The edge's service context for the control verbs, over the test Postgres and the cluster's NATS. */
function edgeCtx(tenantId: string) {
  const js = jetstream(cluster.nc);
  return {
    db: drizzle(cluster.pool, { schema }),
    tenantId,
    mode: "live",
    traceId: `hardening-${tenantId.slice(0, 8)}`,
    actor: "test",
    defaultRegion: "falkenstein",
    wakeups: { wakeAt: async () => {} },
    publisher: {
      async publish(_region: Region, subject: string, data: string, headers: Record<string, string>) {
        const h = (await import("@nats-io/nats-core")).headers();
        for (const [k, v] of Object.entries(headers)) h.set(k, v);
        const ack = await js.publish(subject, data, { headers: h });
        return { stream: ack.stream, seq: ack.seq };
      },
    },
  };
}

async function newBatch(provider: TestProvider, count: number, opts: { offset?: number; label?: string } = {}) {
  const tenantId = await createTenant(cluster.pool, opts.label ?? `hardening-${provider}`);
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, provider);
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider, count, offset: opts.offset });
  return { tenantId, batchId };
}

function deliveriesPerAddress(batchId: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const m of cluster.sandbox.messages({ batchId })) seen.set(m.to, (seen.get(m.to) ?? 0) + 1);
  return seen;
}

function expectExactlyOnce(batchId: string, addresses: string[]) {
  const seen = deliveriesPerAddress(batchId);
  const dupes = [...seen].filter(([, n]) => n > 1);
  expect(dupes, "addresses sent more than once").toEqual([]);
  expect(seen.size).toBe(addresses.length);
  for (const a of addresses) expect(seen.has(a), a).toBe(true);
}

async function waitCompleted(batchId: string, timeoutMs: number) {
  return waitFor(
    `batch ${batchId} completed`,
    async () => {
      const b = await batchRow(cluster.pool, batchId);
      return b.status === "completed" ? b : undefined;
    },
    timeoutMs,
    100,
  );
}

/** Counts chunk messages published for one batch (a core subscription sees every publish on the subject). */
function countChunks(batchId: string) {
  let n = 0;
  const sub = cluster.nc.subscribe("send.>");
  const done = (async () => {
    for await (const m of sub) if (m.json<{ batchId: string }>().batchId === batchId) n++;
  })();
  return {
    async stop(): Promise<number> {
      await cluster.nc.flush();
      sub.unsubscribe();
      await done;
      return n;
    },
  };
}

/** Observations of the consumer's result-write histogram above `le` seconds. */
async function recordsSlowerThan(c: ConsumerProc, le: string): Promise<{ slow: number; total: number }> {
  const text = await (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text();
  const num = (re: RegExp) => Number(text.match(re)?.[1] ?? NaN);
  const total = num(/^batchsender_record_seconds_count(?:\{[^}]*\})? (\d+)/m);
  const within = num(new RegExp(`^batchsender_record_seconds_bucket\\{[^}]*le="${le}"[^}]*\\} (\\d+)`, "m"));
  return { slow: total - within, total };
}

describe("delivery hardening", () => {
  it("a small batch sent 10 s after a 200,000-recipient one completes within 15 s; cancelling the big one answers within 1 s and blocks no result write", async () => {
    await cluster.sandbox.reset();
    const c = await consumer({
      MANAGED_SES_RPS: "200",
      MANAGED_SES_RECIPIENTS_RPS: "200",
      MANAGED_SHARE_FALKENSTEIN: "1",
      TENANT_SEND_RPS: "100000",
    });
    const a = await newBatch("ses", 200_000, { label: "tenant A" });
    await cluster.plan(a.batchId, a.tenantId);
    await new Promise((r) => setTimeout(r, 10_000));

    const b = await newBatch("ses", 100, { label: "tenant B", offset: 500_000 });
    const startedAt = Date.now();
    await cluster.plan(b.batchId, b.tenantId);
    await waitCompleted(b.batchId, 15_000);
    const tookMs = Date.now() - startedAt;
    console.log(`fairness: tenant B's 100 recipients completed in ${tookMs} ms behind a 200,000-recipient batch`);
    expect(tookMs).toBeLessThan(15_000);
    expectExactlyOnce(b.batchId, Array.from({ length: 100 }, (_, i) => addressFor("ses", 500_000 + i)));

    const before = await batchRow(cluster.pool, a.batchId);
    expect(before.status).toBe("processing");
    expect(before.sent).toBeGreaterThan(0);
    const t0 = Date.now();
    const res = await cancelBatch({ ctx: edgeCtx(a.tenantId), input: { batchId: a.batchId } });
    const cancelMs = Date.now() - t0;
    console.log(`fairness: cancelling 200,000 recipients answered in ${cancelMs} ms`);
    expect(res.batch.status).toBe("cancelled");
    expect(cancelMs).toBeLessThan(1000);

    // The consumers' reconciler settles the rest in bounded steps; counters add up; nothing sent twice.
    const settled = await waitFor(
      "cancelled batch settled",
      async () => {
        const counts = await recipientStatusCounts(cluster.pool, a.batchId);
        const row = await cluster.pool.query<{ settle_pending: boolean }>("select settle_pending from batches where id = $1", [a.batchId]);
        return counts.queued || counts.sending || row.rows[0]!.settle_pending ? undefined : counts;
      },
      60_000,
      250,
    );
    const final = await batchRow(cluster.pool, a.batchId);
    expect(final.status).toBe("cancelled");
    expect(final.sent).toBe(settled.sent ?? 0);
    expect(final.cancelled).toBe(settled.cancelled ?? 0);
    expect(final.sent + final.cancelled).toBe(200_000);
    expect(final.queued).toBe(0);
    const seen = deliveriesPerAddress(a.batchId);
    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
    expect(seen.size).toBe(final.sent);

    // No group commit waited on the cancel (or on anything else) for as long as a second.
    const records = await recordsSlowerThan(c, "1");
    console.log(`fairness: ${records.total} result writes, ${records.slow} slower than 1 s`);
    expect(records.total).toBeGreaterThan(0);
    expect(records.slow).toBe(0);
  }, 120_000);

  it("100 pause/resume cycles on a 20,000-recipient batch: each recipient sent once, chunks bounded", async () => {
    await cluster.sandbox.reset();
    // Resend (one call per chunk of 100) so 20,000 recipients finish quickly through a deliberately small
    // window: 4 chunks (PLAN_WINDOW_MIN_CHUNKS; the rate term is tiny), topped up every 100 ms.
    const windowChunks = 4;
    await consumer({
      MANAGED_RESEND_RPS: "100",
      MANAGED_SHARE_FALKENSTEIN: "1",
      TENANT_SEND_RPS: "100000",
      PLAN_WINDOW_SECONDS: "0.01",
      PLAN_WINDOW_MIN_CHUNKS: String(windowChunks),
      RECONCILE_INTERVAL_MS: "100",
    });
    const count = 20_000;
    const { batchId, tenantId } = await newBatch("resend", count, { label: "pause-resume" });
    const chunks = countChunks(batchId);
    await cluster.plan(batchId, tenantId);
    await waitFor("sending started", async () => cluster.sandbox.messages({ batchId }).length > 0, 30_000, 20);

    const ctx = edgeCtx(tenantId);
    const cycles = 100;
    for (let i = 0; i < cycles; i++) {
      // The edge allows 10 control calls per batch per minute; this test is about the consumers, so it
      // opens the window before each call as a minute passing would.
      await cluster.pool.query("update batches set control_window_at = null, control_calls = 0 where id = $1", [batchId]);
      const paused = await pauseBatch({ ctx, input: { batchId } }).catch((e: Error) => e);
      if (paused instanceof Error) {
        // Only possible if it already completed.
        expect(paused.message).toMatch(/completed/);
        break;
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
      await resumeBatch({ ctx, input: { batchId } });
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
    const done = await waitCompleted(batchId, 90_000);
    expect(done.sent).toBe(count);
    expectExactlyOnce(batchId, Array.from({ length: count }, (_, i) => addressFor("resend", i)));

    const published = await chunks.stop();
    const minimum = count / 100;
    console.log(`pause/resume: ${published} chunk messages for ${minimum} chunks of recipients over ${cycles} cycles`);
    // At most every recipient's chunk once, plus per cycle the window outstanding at the pause (re-planned by
    // the resume's generation) and one partial chunk at the end of that generation's plan. Before generations
    // and windows each resume re-published every queued recipient (up to 100 × 200 chunks).
    expect(published).toBeLessThanOrEqual(minimum + cycles * (windowChunks + 1));
    expect(published).toBeLessThanOrEqual(3 * minimum);
  }, 120_000);

  it("a consumer SIGKILLed while the reconciler re-plans a stranded batch: every recipient sent exactly once", async () => {
    await cluster.sandbox.reset();
    await fetch(`${cluster.sandbox.url}/_sandbox/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ latencyMs: 15 }),
    });
    const env = { MANAGED_TELNYX_RPS: "5000", MANAGED_SHARE_FALKENSTEIN: "1", TENANT_SEND_RPS: "100000", RECONCILE_STALE_SECONDS: "3" };
    const count = 3000;
    const { batchId } = await newBatch("telnyx", count, { label: "stranded" });
    // Stranded as after a lost plan/chunk: processing, rows queued (and some sending with an expired lease),
    // no message anywhere, no progress for an hour.
    await cluster.pool.query(
      `update batches set status = 'processing', started_at = now() - interval '1 hour', planned_at = now() - interval '1 hour',
              updated_at = now() - interval '1 hour' where id = $1`,
      [batchId],
    );
    await cluster.pool.query(
      `update recipients set status = 'sending', claim_token = gen_random_uuid(), lease_until = now() - interval '5 minutes'
        where batch_id = $1 and id % 7 = 0`,
      [batchId],
    );

    const first = await consumer(env);
    await waitFor(
      "the reconciler re-planned the batch",
      async () => (await cluster.pool.query<{ g: number }>("select plan_generation as g from batches where id = $1", [batchId])).rows[0]!.g > 0,
      30_000,
      5,
    );
    await cluster.kill(first, "SIGKILL");
    const mid = cluster.sandbox.messages({ batchId }).length;
    // The next consumer takes the re-planned batch over (the kill left no live process in the region); kill it
    // too while it is sending the re-planned windows.
    const second = await consumer(env);
    await waitFor("sending resumed", async () => cluster.sandbox.messages({ batchId }).length >= mid + 300, 60_000, 5);
    await cluster.kill(second, "SIGKILL");
    await consumer(env);
    await consumer(env);
    const done = await waitCompleted(batchId, 90_000);
    console.log(`reconciler: killed at the re-plan after ${mid} sends, and again mid-sending; batch completed`);
    expect(done.sent).toBe(count);
    expect(mid).toBeLessThan(count);
    expectExactlyOnce(batchId, Array.from({ length: count }, (_, i) => addressFor("telnyx", i)));
  }, 120_000);

  it("an address suppressed after the batch was queued ends suppressed, with no provider call (live list only)", async () => {
    await cluster.sandbox.reset();
    await consumer({ MANAGED_SES_RPS: "1000", MANAGED_SHARE_FALKENSTEIN: "1", TENANT_SEND_RPS: "100000" });
    const count = 20;
    const { batchId, tenantId } = await newBatch("ses", count, { label: "suppressed later" });
    const suppressed = [addressFor("ses", 3), addressFor("ses", 11)];
    for (const address of suppressed) {
      await cluster.pool.query(
        "insert into suppressions (tenant_id, channel, address, reason, source) values ($1, 'email', $2, 'hard_bounce', 'test')",
        [tenantId, address],
      );
    }
    // A test key's suppression of another address: test-mode lists never stop a live batch.
    await cluster.pool.query(
      "insert into suppressions (tenant_id, mode, channel, address, reason, source) values ($1, 'test', 'email', $2, 'manual', 'test')",
      [tenantId, addressFor("ses", 5)],
    );
    await cluster.plan(batchId, tenantId);
    const done = await waitCompleted(batchId, 30_000);
    expect(done.sent).toBe(count - suppressed.length);
    const { rows } = await cluster.pool.query<{ address: string; status: string; last_error: string | null; suppressed: number }>(
      `select r.address, r.status::text as status, r.last_error, b.suppressed
         from recipients r join batches b on b.id = r.batch_id where r.batch_id = $1 and r.status = 'suppressed' order by r.address`,
      [batchId],
    );
    expect(rows.map((r) => r.address)).toEqual([...suppressed].sort());
    expect(rows[0]!.suppressed).toBe(suppressed.length);
    expect(rows[0]!.last_error).toMatch(/suppressed: hard_bounce/);
    const seen = deliveriesPerAddress(batchId);
    for (const a of suppressed) expect(seen.has(a), `${a} reached the provider`).toBe(false);
    expect(seen.size).toBe(count - suppressed.length);
  }, 60_000);
});
