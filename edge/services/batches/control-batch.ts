/**
 * pause / resume / cancel / retry: each one guarded SQL transition (a racing writer can never move a batch
 * backwards), counters changed in the same statement as the recipient rows they count (DESIGN §3).
 */
import { sql } from "drizzle-orm";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView } from "./batch-view";
import { assertBatchId, loadBatch, transitionRefused } from "./guards";
import { enqueuePlan, publishOutboxRow, type OutboxRow } from "./outbox";
import type { TransitionResult } from "./send-batch";

type Verb = (args: { ctx: ServiceCtx; input: { batchId: string } }) => Promise<TransitionResult>;

/** queued|processing → paused. Senders claim nothing from a paused batch, so in-flight chunks drain. */
export const pauseBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchId(id);
  const res = await ctx.db.execute(sql`
    update batches set status = 'paused', updated_at = now()
     where id = ${id}::uuid and tenant_id = ${ctx.tenantId}::uuid and status in ('queued', 'processing')
    returning id`);
  if (!res.rows.length) await transitionRefused(ctx.db, ctx.tenantId, id, "pause");
  return { batch: toBatchView(await loadBatch(ctx.db, ctx.tenantId, id)) };
};

/** Shared tail of resume and retry: plan message through the outbox, published after commit. */
async function requeue(ctx: ServiceCtx, id: string, action: string, statement: ReturnType<typeof sql>): Promise<TransitionResult> {
  const outbox = await ctx.db.transaction(async (tx): Promise<OutboxRow> => {
    const res = await tx.execute<{ region: string }>(statement);
    const row = res.rows[0];
    if (!row) return transitionRefused(tx, ctx.tenantId, id, action);
    return enqueuePlan(tx, { batchId: id, tenantId: ctx.tenantId, region: row.region, traceId: ctx.traceId });
  });
  const published = await publishOutboxRow(ctx.db, ctx.publisher, outbox);
  return { batch: toBatchView(await loadBatch(ctx.db, ctx.tenantId, id)), published };
}

/** paused → queued, with a new plan message: the planner re-chunks the recipients still queued. */
export const resumeBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchId(id);
  return requeue(ctx, id, "resume", sql`
    update batches set status = 'queued', updated_at = now()
     where id = ${id}::uuid and tenant_id = ${ctx.tenantId}::uuid and status = 'paused'
    returning region`);
};

/**
 * completed|failed → queued for a batch with failed recipients: failed → queued (attempts reset, since the
 * caller asked for a fresh try), counters moved, plan published. No failed recipient → 409.
 */
export const retryBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchId(id);
  // A completed batch without failed recipients matches nothing: 409 naming its status.
  return requeue(ctx, id, "retry", sql`
    with b as (
      select id from batches
       where id = ${id}::uuid and tenant_id = ${ctx.tenantId}::uuid and status in ('completed', 'failed')
       for update
    ), r as (
      update recipients set status = 'queued', attempts = 0, last_error = null, claim_token = null,
                            lease_until = null, updated_at = now()
       where batch_id in (select id from b) and status = 'failed'
      returning 1
    )
    update batches set status = 'queued', failed = failed - (select count(*) from r)::int,
                       queued = queued + (select count(*) from r)::int, completed_at = null,
                       queued_at = now(), updated_at = now()
     where id in (select id from b) and (select count(*) from r) > 0
    returning region`);
};

/**
 * draft|scheduled|queued|processing|paused → cancelled. The batch row is locked first, then ONE statement
 * cancels every pending/queued recipient and adjusts the counters (`cancelled += n`, `queued -= n queued`).
 * Rows already claimed by a sender (`sending`) finish and are counted by the sender.
 */
export const cancelBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchId(id);
  await ctx.db.transaction(async (tx) => {
    const locked = await tx.execute(sql`
      select id from batches
       where id = ${id}::uuid and tenant_id = ${ctx.tenantId}::uuid
         and status in ('draft', 'scheduled', 'queued', 'processing', 'paused')
       for update`);
    if (!locked.rows.length) await transitionRefused(tx, ctx.tenantId, id, "cancel");
    await tx.execute(sql`
      with old as (
        select id, status from recipients
         where batch_id = ${id}::uuid and status in ('pending', 'queued')
         for update
      ), r as (
        update recipients set status = 'cancelled', updated_at = now()
          from old where recipients.id = old.id
        returning old.status as was
      )
      update batches set status = 'cancelled',
                         cancelled = cancelled + (select count(*) from r)::int,
                         queued = queued - (select count(*) from r where was = 'queued')::int,
                         completed_at = now(), updated_at = now()
       where id = ${id}::uuid`);
  });
  return { batch: toBatchView(await loadBatch(ctx.db, ctx.tenantId, id)) };
};
