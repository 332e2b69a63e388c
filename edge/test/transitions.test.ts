import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import worker from "../worker";
import { call, emailBatch, newTenant, query, testEnv, type TestTenant } from "./harness";
import { connectNats, ensurePlanStream, watchPlans } from "./nats";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const traceparent = `00-${TRACE}-00f067aa0ba902b7-01`;

let nc: NatsConnection;
beforeEach(async () => {
  nc = await connectNats();
  await ensurePlanStream(nc);
});
afterEach(async () => {
  await nc.close();
});

async function draft(t: TestTenant, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true, ...overrides }) });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Puts a draft into `queued` as a send would, without publishing (so no planner races the test). */
async function markQueued(id: string): Promise<void> {
  await query("update recipients set status = 'queued' where batch_id = $1", [id]);
  await query("update batches set status = 'queued', queued = total, queued_at = now() where id = $1", [id]);
}

async function outboxFor(id: string) {
  return query<{ subject: string; published_at: string | null; headers: Record<string, string> }>(
    "select subject, published_at, headers from outbox where payload->>'batchId' = $1 order by id",
    [id],
  );
}

describe("batch transitions", () => {
  it("send → 202, recipients queued, the plan message is in JetStream; a second send → 409", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const plans = watchPlans(nc, id);
    const sent = await call("POST", `/v1/batches/${id}/send`, { apiKey: t.apiKey, headers: { traceparent } });
    expect(sent.status).toBe(202);
    expect(["queued", "processing", "completed"]).toContain(sent.body.status);
    expect(sent.body.queuedAt).not.toBeNull();

    const seen = await plans.waitFor(1);
    await plans.stop();
    expect(seen[0]).toEqual({ subject: "batch.falkenstein.plan", data: { batchId: id, tenantId: t.tenantId }, traceId: TRACE });
    const outbox = await outboxFor(id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.published_at).not.toBeNull(); // set only after the JetStream ack
    const [b] = await query<{ queued: number; pending: number }>(
      "select b.queued + b.sent + b.failed as queued, (select count(*)::int from recipients where batch_id = b.id and status = 'pending') as pending from batches b where id = $1",
      [id],
    );
    expect(b).toEqual({ queued: 2, pending: 0 });

    const again = await call("POST", `/v1/batches/${id}/send`, { apiKey: t.apiKey });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("conflict");
    expect(again.body.detail).toMatch(/Cannot send a batch that is (queued|processing|completed)/);
  });

  it("the NatsPublisher DO acks a publish from JetStream", async () => {
    const stub = testEnv.NATS_PUBLISHER.get(testEnv.NATS_PUBLISHER.idFromName("ashburn"));
    const batchId = crypto.randomUUID();
    const plans = watchPlans(nc, batchId);
    const ack = await stub.publish("batch.ashburn.plan", JSON.stringify({ batchId, tenantId: crypto.randomUUID() }), {});
    expect(ack.stream).toBe("BATCHES");
    expect(ack.seq).toBeGreaterThan(0);
    expect((await plans.waitFor(1))[0]?.subject).toBe("batch.ashburn.plan");
    await plans.stop();
  });

  it("pause and resume: guarded, 409 naming the current status, resume publishes a new plan", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const pauseDraft = await call("POST", `/v1/batches/${id}/pause`, { apiKey: t.apiKey });
    expect(pauseDraft.status).toBe(409);
    expect(pauseDraft.body.detail).toBe("Cannot pause a batch that is draft");
    expect((await call("POST", `/v1/batches/${id}/resume`, { apiKey: t.apiKey })).body.detail).toBe("Cannot resume a batch that is draft");

    await markQueued(id);
    const paused = await call("POST", `/v1/batches/${id}/pause`, { apiKey: t.apiKey });
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe("paused");
    expect((await call("POST", `/v1/batches/${id}/pause`, { apiKey: t.apiKey })).status).toBe(409);
    expect((await call("POST", `/v1/batches/${id}/send`, { apiKey: t.apiKey })).body.detail).toBe("Cannot send a batch that is paused");

    const plans = watchPlans(nc, id);
    const resumed = await call("POST", `/v1/batches/${id}/resume`, { apiKey: t.apiKey });
    expect(resumed.status).toBe(202);
    expect(["queued", "processing", "completed"]).toContain(resumed.body.status);
    expect(await plans.waitFor(1)).toHaveLength(1);
    await plans.stop();
    expect((await outboxFor(id))[0]!.published_at).not.toBeNull();
  });

  it("cancel moves pending/queued recipients and the counters in one go; cancelling twice is 409", async () => {
    const t = await newTenant();
    const draftId = await draft(t);
    const cancelledDraft = await call("POST", `/v1/batches/${draftId}/cancel`, { apiKey: t.apiKey });
    expect(cancelledDraft.status).toBe(200);
    expect(cancelledDraft.body).toMatchObject({ status: "cancelled", counts: { total: 2, queued: 0, cancelled: 2 } });

    const queuedId = await draft(t, { name: "queued one" }, );
    await markQueued(queuedId);
    // One recipient already claimed by a sender: it is not cancelled, the sender finishes it.
    await query("update recipients set status = 'sending' where id = (select min(id) from recipients where batch_id = $1)", [queuedId]);
    const cancelled = await call("POST", `/v1/batches/${queuedId}/cancel`, { apiKey: t.apiKey });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", counts: { total: 2, queued: 1, cancelled: 1 } });
    const statuses = await query<{ status: string }>("select status from recipients where batch_id = $1 order by id", [queuedId]);
    expect(statuses.map((r) => r.status)).toEqual(["sending", "cancelled"]);

    const twice = await call("POST", `/v1/batches/${queuedId}/cancel`, { apiKey: t.apiKey });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toBe("Cannot cancel a batch that is cancelled");
    expect((await call("POST", `/v1/batches/${queuedId}/resume`, { apiKey: t.apiKey })).status).toBe(409);
  });

  it("retry requeues failed recipients of a finished batch; without failures it is 409", async () => {
    const t = await newTenant();
    const id = await draft(t);
    expect((await call("POST", `/v1/batches/${id}/retry`, { apiKey: t.apiKey })).body.detail).toBe("Cannot retry a batch that is draft");
    await query("update recipients set status = case when id = (select min(id) from recipients where batch_id = $1) then 'sent' else 'failed' end::recipient_status where batch_id = $1", [id]);
    await query("update batches set status = 'completed', sent = 1, failed = 1, completed_at = now() where id = $1", [id]);
    const retried = await call("POST", `/v1/batches/${id}/retry`, { apiKey: t.apiKey });
    expect(retried.status).toBe(202);
    const [row] = await query<{ status: string; failed: number; sent: number }>("select status, failed, sent from batches where id = $1", [id]);
    expect(row!.failed).toBe(0);
    expect(row!.sent).toBeGreaterThanOrEqual(1);
    expect((await outboxFor(id))[0]!.published_at).not.toBeNull();

    const clean = await draft(t, { name: "clean" });
    await query("update batches set status = 'completed', completed_at = now() where id = $1", [clean]);
    const refused = await call("POST", `/v1/batches/${clean}/retry`, { apiKey: t.apiKey });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe("Cannot retry a batch that is completed");
  });

  it("a future scheduledAt sends to `scheduled`; the cron queues and publishes it once due", async () => {
    const t = await newTenant();
    const id = await draft(t, { scheduledAt: new Date(Date.now() + 3_600_000).toISOString() });
    const sent = await call("POST", `/v1/batches/${id}/send`, { apiKey: t.apiKey, headers: { traceparent } });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: "scheduled", queuedAt: null, counts: { queued: 0 } });
    expect(await outboxFor(id)).toHaveLength(0);

    await query("update batches set scheduled_at = now() - interval '1 second' where id = $1", [id]);
    const plans = watchPlans(nc, id);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    const seen = await plans.waitFor(1);
    await plans.stop();
    expect(seen[0]?.traceId).toBe(TRACE);
    const [row] = await query<{ status: string; queued: number }>("select status, queued from batches where id = $1", [id]);
    expect(["queued", "processing", "completed"]).toContain(row!.status);
    expect((await outboxFor(id))[0]!.published_at).not.toBeNull();
  });

  it("the cron sweep republishes an outbox row whose publish failed", async () => {
    const batchId = crypto.randomUUID();
    const [row] = await query<{ id: number }>(
      `insert into outbox (subject, payload, headers, created_at, attempts, last_error)
       values ('batch.falkenstein.plan', $1::jsonb, '{}'::jsonb, now() - interval '1 minute', 1, 'nats down') returning id`,
      [JSON.stringify({ batchId, tenantId: crypto.randomUUID() })],
    );
    const plans = watchPlans(nc, batchId);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await plans.waitFor(1)).toHaveLength(1);
    await plans.stop();
    const [after] = await query<{ published_at: string | null; attempts: number }>("select published_at, attempts from outbox where id = $1", [row!.id]);
    expect(after!.published_at).not.toBeNull();
    expect(after!.attempts).toBe(2);
  });
});
