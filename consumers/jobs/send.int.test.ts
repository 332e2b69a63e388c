// The planner and sender on real NATS (own nats-server), real Postgres and Redis, against the in-process
// provider sandbox. Token buckets are always-ok here: pacing is the rate limiter's own test.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { consumerSpecs, streams, subjects, TRACE_HEADER } from "../../core/contract";
import { startSandbox } from "../../dev/sandbox/server";
import { startConsumerApp, type ConsumerApp } from "../app";
import { quietLog, sandboxConfig, startTestNats, unlimitedTokens, waitFor, waitIdle, type Sandbox } from "../testing/harness";
import { addressFor, batchRow, createBatch, createTenantWithConfig, recipientStatusCounts, testConfig, testPool } from "../../test/support/fixtures";

const pool = testPool();
let nats: Awaited<ReturnType<typeof startTestNats>>;
let sandbox: Sandbox;
let app: ConsumerApp;

beforeAll(async () => {
  nats = await startTestNats(20310);
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
  app = await startConsumerApp(testConfig(nats.url, sandbox.url), { log: quietLog, tokens: unlimitedTokens });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
  await nats?.stop();
  await pool.end();
});

async function plan(batchId: string, tenantId: string) {
  const h = natsHeaders();
  h.set(TRACE_HEADER, `int-${batchId}`);
  await jetstream(nats.nc).publish(subjects.plan("falkenstein"), JSON.stringify({ batchId, tenantId }), { headers: h });
}

async function publishChunk(batchId: string, tenantId: string, recipientIds: number[], channel: "email" | "sms" = "email") {
  await jetstream(nats.nc).publish(subjects.send("falkenstein", channel), JSON.stringify({ batchId, tenantId, recipientIds }));
}

const completed = (batchId: string, timeoutMs = 90_000) =>
  waitFor(`batch ${batchId} completed`, async () => {
    const b = await batchRow(pool, batchId);
    return b.status === "completed" ? b : undefined;
  }, timeoutMs);

describe("planner + sender", () => {
  it("sends a 1,000-recipient SES batch: completed, 1,000 distinct sandbox messages, every recipient sent", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 1000 });
    await plan(batchId, tenantId);
    const b = await completed(batchId);
    expect(b).toMatchObject({ total: 1000, sent: 1000, failed: 0, queued: 0 });
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ sent: 1000 });
    const msgs = sandbox.messages({ batchId });
    expect(msgs).toHaveLength(1000);
    expect(new Set(msgs.map((m) => m.to)).size).toBe(1000);
    expect(msgs.find((m) => m.to === addressFor("ses", 6))?.subject).toBe("Hello R7");
    const { rows } = await pool.query<{ n: number }>(
      "select count(*)::int as n from recipients where batch_id = $1 and provider_message_id is not null and sent_at is not null and claim_token is null",
      [batchId],
    );
    expect(rows[0]!.n).toBe(1000);
  });

  it("sends a Resend batch in batch calls and a Telnyx batch, each exactly once", async () => {
    const resend = await createTenantWithConfig(pool, "resend");
    const r = await createBatch(pool, { ...resend, provider: "resend", count: 250 });
    const telnyx = await createTenantWithConfig(pool, "telnyx");
    const t = await createBatch(pool, { ...telnyx, provider: "telnyx", count: 60 });
    await plan(r.batchId, resend.tenantId);
    await plan(t.batchId, telnyx.tenantId);
    expect(await completed(r.batchId)).toMatchObject({ sent: 250, failed: 0 });
    expect(await completed(t.batchId)).toMatchObject({ sent: 60, failed: 0 });
    expect(new Set(sandbox.messages({ batchId: r.batchId }).map((m) => m.to)).size).toBe(250);
    expect(sandbox.messages({ batchId: r.batchId })).toHaveLength(250);
    expect(sandbox.messages({ batchId: t.batchId })).toHaveLength(60);
  });

  it("a chunk redelivered after a crash re-sends only the rows left `sending` with an expired lease", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 10, status: "processing" });
    // The crashed consumer had sent and recorded 6, and died holding 4 in flight.
    await pool.query("update recipients set status = 'sent', sent_at = now(), provider_message_id = 'earlier' where id = any($1::bigint[])", [ids.slice(0, 6)]);
    await pool.query(
      "update recipients set status = 'sending', claim_token = $2, lease_until = now() - interval '1 second', attempts = 1 where id = any($1::bigint[])",
      [ids.slice(6), crypto.randomUUID()],
    );
    await pool.query("update batches set sent = 6, queued = 4 where id = $1", [batchId]);
    await publishChunk(batchId, tenantId, ids);
    expect(await completed(batchId)).toMatchObject({ sent: 10, queued: 0, failed: 0 });
    const msgs = sandbox.messages({ batchId });
    expect(msgs.map((m) => m.to).sort()).toEqual([6, 7, 8, 9].map((i) => addressFor("ses", i)).sort());
    const { rows } = await pool.query<{ attempts: number }>("select attempts from recipients where id = any($1::bigint[]) order by id", [ids.slice(6)]);
    expect(rows.map((r) => r.attempts)).toEqual([2, 2, 2, 2]);
  });

  it("a row held by a live claim is not sent again", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 3, status: "processing" });
    const liveToken = crypto.randomUUID();
    await pool.query("update recipients set status = 'sending', claim_token = $2, lease_until = now() + interval '3 seconds' where id = $1", [ids[0], liveToken]);
    await publishChunk(batchId, tenantId, ids);
    await waitFor("two sent", async () => (await recipientStatusCounts(pool, batchId)).sent === 2);
    expect(sandbox.messages({ batchId }).map((m) => m.to).sort()).toEqual([addressFor("ses", 1), addressFor("ses", 2)]);
    const { rows } = await pool.query<{ status: string; claim_token: string }>("select status, claim_token from recipients where id = $1", [ids[0]]);
    expect(rows[0]).toEqual({ status: "sending", claim_token: liveToken });
    // The owner finishes it; the waiting chunk (nak'ed until the lease would end) then has nothing left.
    await pool.query("update recipients set status = 'sent', claim_token = null, lease_until = null where id = $1", [ids[0]]);
  });

  it("a permanent rejection fails exactly that recipient, with the provider's reason", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 20 });
    await sandboxConfig(sandbox, { faults: [{ kind: "reject", to: addressFor("ses", 5) }] });
    try {
      await plan(batchId, tenantId);
      expect(await completed(batchId)).toMatchObject({ sent: 19, failed: 1, queued: 0 });
      const { rows } = await pool.query<{ address: string; last_error: string }>(
        "select address, last_error from recipients where batch_id = $1 and status = 'failed'",
        [batchId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.address).toBe(addressFor("ses", 5));
      expect(rows[0]!.last_error).toMatch(/reject/i);
    } finally {
      await sandboxConfig(sandbox, { faults: [] });
    }
  });

  it("injected throttling and 5xx end with everyone sent and retries counted", async () => {
    const ses = await createTenantWithConfig(pool, "ses");
    const a = await createBatch(pool, { ...ses, provider: "ses", count: 150 });
    const resend = await createTenantWithConfig(pool, "resend");
    const b = await createBatch(pool, { ...resend, provider: "resend", count: 300 });
    await sandboxConfig(sandbox, { faults: [{ kind: "throttle", probability: 0.25 }, { kind: "server_error", probability: 0.1 }] });
    try {
      await plan(a.batchId, ses.tenantId);
      await plan(b.batchId, resend.tenantId);
      expect(await completed(a.batchId, 110_000)).toMatchObject({ sent: 150, failed: 0 });
      expect(await completed(b.batchId, 110_000)).toMatchObject({ sent: 300, failed: 0 });
    } finally {
      await sandboxConfig(sandbox, { faults: [] });
    }
    expect(new Set(sandbox.messages({ batchId: a.batchId }).map((m) => m.to)).size).toBe(150);
    expect(new Set(sandbox.messages({ batchId: b.batchId }).map((m) => m.to)).size).toBe(300);
    const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    const retries = [...metrics.matchAll(/^batchsender_send_retries_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(retries).toBeGreaterThan(0);
  });

  it("a recipient whose stored variables are far over the cap is failed with the size, without being loaded", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 3 });
    // Written behind the edge's caps (as a bug or a direct insert could): 40 KiB against a 16 KiB cap.
    await pool.query("update recipients set variables = jsonb_build_object('name', repeat('x', 40000)) where id = $1", [ids[1]]);
    await plan(batchId, tenantId);
    expect(await completed(batchId)).toMatchObject({ sent: 2, failed: 1 });
    const { rows } = await pool.query<{ status: string; last_error: string }>("select status, last_error from recipients where id = $1", [ids[1]]);
    expect(rows[0]).toMatchObject({ status: "failed" });
    expect(rows[0]!.last_error).toMatch(/^render: variables are 400\d\d bytes stored; at most 16384 serialized$/);
    expect(sandbox.messages({ batchId })).toHaveLength(2);
  });

  it("a paused batch claims nothing; a cancelled batch plans nothing", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const paused = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 30, status: "paused" });
    await publishChunk(paused.batchId, tenantId, paused.ids);
    await plan(paused.batchId, tenantId);
    const cancelled = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 5, status: "cancelled" });
    await plan(cancelled.batchId, tenantId);
    await waitIdle(nats.nc, streams.sends.name, consumerSpecs.sender("falkenstein", "email").durable);
    await waitIdle(nats.nc, streams.batches.name, consumerSpecs.planner("falkenstein").durable);
    const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from recipients where batch_id = $1 and status = 'queued' and attempts = 0", [paused.batchId]);
    expect(rows[0]!.n).toBe(30);
    expect(sandbox.messages({ batchId: paused.batchId })).toHaveLength(0);
    expect((await batchRow(pool, paused.batchId)).status).toBe("paused");
    expect((await batchRow(pool, cancelled.batchId)).status).toBe("cancelled");
  });

  it("a batch whose recipients are all already terminal completes at planning", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 4 });
    await pool.query("update recipients set status = 'suppressed' where batch_id = $1", [batchId]);
    await pool.query("update batches set suppressed = 4, queued = 0 where id = $1", [batchId]);
    await plan(batchId, tenantId);
    expect(await completed(batchId)).toMatchObject({ suppressed: 4, sent: 0 });
  });

  it("stopping a consumer mid-batch releases its claims; another finishes the batch with no duplicates", async () => {
    const second = await startConsumerApp(testConfig(nats.url, sandbox.url), { log: quietLog, tokens: unlimitedTokens });
    await sandboxConfig(sandbox, { latencyMs: 40 });
    try {
      const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
      const { batchId } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 400 });
      await plan(batchId, tenantId);
      await waitFor("first sends", async () => sandbox.messages({ batchId }).length > 30);
      await second.stop();
      // Nothing is left claimed by the stopped consumer: every row is terminal, queued, or claimed by `app`.
      expect(await completed(batchId)).toMatchObject({ sent: 400, failed: 0, queued: 0 });
      const msgs = sandbox.messages({ batchId });
      expect(new Set(msgs.map((m) => m.to)).size).toBe(400);
      expect(msgs).toHaveLength(400);
    } finally {
      await sandboxConfig(sandbox, { latencyMs: 0 });
      await second.stop();
    }
  });

  it("answers health, readiness and metrics", async () => {
    expect((await fetch(`http://127.0.0.1:${app.port}/health`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${app.port}/health/ready`);
    expect(await ready.json()).toEqual({ status: "ready", checks: { postgres: "ok", nats: "ok", redis: "ok" } });
    const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    expect(metrics).toMatch(/batchsender_sends_total\{provider="ses",outcome="sent"\} \d+/);
    expect(metrics).toMatch(/batchsender_consumer_pending\{durable="sender-falkenstein-email"\} 0/);
    const nf = await fetch(`http://127.0.0.1:${app.port}/nope`);
    expect(nf.status).toBe(404);
    expect(nf.headers.get("content-type")).toBe("application/problem+json");
    const jsm = await jetstreamManager(nats.nc);
    const si = await jsm.streams.info(streams.sends.name);
    expect(si.config).toMatchObject({ retention: "workqueue", discard: "new", max_age: 0 });
  });
});
