/**
 * pause / resume / cancel / retry: each one guarded SQL transition (core/domain/batch-states.ts; a racing
 * writer can never move a batch backwards) that answers within a second whatever the batch's size:
 *
 * - the batch row changes in one short statement; recipient rows change inline only up to
 *   CONTROL_INLINE_ROWS, in a bounded statement with the counters, and the consumers do the rest in bounded
 *   steps (consumers/jobs/reconcile.ts for cancel, the planner for retry). No statement touches a whole
 *   batch, so the group commit of results never waits behind a control call;
 * - resume and retry start a new plan generation (plan messages and chunks of older ones are dropped by the
 *   consumers), so a pause/resume loop cannot multiply chunks;
 * - each batch accepts at most CONTROL_LIMIT calls per window (429 + Retry-After beyond), counted on the
 *   batch row in the same guarded statement.
 */
import { sql } from "drizzle-orm";
import { CONTROL_INLINE_ROWS, guardSql, statusIn, CANCELLABLE_RECIPIENT_STATES } from "../../../core/domain/batch-states";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView } from "./batch-view";
import { controlLimitSql, controlRefused } from "./guards";
import { assertBatchIdShape, batchScopeSql, loadScopedBatch } from "./scope";
import { enqueuePlan, publishOutboxRow, type OutboxRow } from "./outbox";
import type { TransitionResult } from "./send-batch";

type Verb = (args: { ctx: ServiceCtx; input: { batchId: string } }) => Promise<TransitionResult>;

const guard = (action: Parameters<typeof guardSql>[0]) => sql.raw(guardSql(action));

/** queued|processing → paused. Senders claim nothing from a paused batch, so in-flight chunks drain. */
export const pauseBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchIdShape(id);
  const res = await ctx.db.execute(sql`
    update batches set status = 'paused', ${controlLimitSql.bump}, updated_at = now()
     where id = ${id}::uuid and ${batchScopeSql(ctx)} and ${guard("pause")} and ${controlLimitSql.ok}
    returning id`);
  if (!res.rows.length) await controlRefused(ctx.db, ctx, id, "pause");
  return { batch: toBatchView(await loadScopedBatch(ctx.db, ctx, id)) };
};

/** Shared tail of resume and retry: plan message (with its generation) through the outbox, published after commit. */
async function requeue(
  ctx: ServiceCtx,
  id: string,
  action: "resume" | "retry",
  statement: ReturnType<typeof sql>,
  then?: (tx: Executor) => Promise<void>,
): Promise<TransitionResult> {
  const outbox = await ctx.db.transaction(async (tx): Promise<OutboxRow> => {
    const res = await tx.execute<{ region: string; plan_generation: number }>(statement);
    const row = res.rows[0];
    if (!row) return controlRefused(tx, ctx, id, action);
    await then?.(tx);
    return enqueuePlan(tx, { batchId: id, tenantId: ctx.tenantId, region: row.region, traceId: ctx.traceId, generation: Number(row.plan_generation) });
  });
  const published = await publishOutboxRow(ctx.db, ctx.publisher, outbox);
  return { batch: toBatchView(await loadScopedBatch(ctx.db, ctx, id)), published };
}

/** paused → queued under a new plan generation: the planner re-chunks the recipients still queued. */
export const resumeBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchIdShape(id);
  return requeue(ctx, id, "resume", sql`
    update batches set status = 'queued', plan_generation = plan_generation + 1, plan_cursor = 0,
                       ${controlLimitSql.bump}, updated_at = now()
     where id = ${id}::uuid and ${batchScopeSql(ctx)} and ${guard("resume")} and ${controlLimitSql.ok}
    returning region, plan_generation`);
};

/**
 * completed|failed → queued for a batch with failed recipients, under a new plan generation. The first
 * CONTROL_INLINE_ROWS failed rows go back to queued here (attempts reset: the caller asked for a fresh try),
 * counters in the same statement; `retry_requested_at` tells the planner to re-queue the rest in bounded
 * pages before it plans. No failed recipient → 409.
 */
export const retryBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchIdShape(id);
  return requeue(
    ctx,
    id,
    "retry",
    sql`
      update batches set status = 'queued', plan_generation = plan_generation + 1, plan_cursor = 0,
                         retry_requested_at = now(), completed_at = null, queued_at = now(),
                         ${controlLimitSql.bump}, updated_at = now()
       where id = ${id}::uuid and ${batchScopeSql(ctx)} and ${guard("retry")} and failed > 0
         and ${controlLimitSql.ok}
      returning region, plan_generation`,
    async (tx) => {
      await tx.execute(sql`
        with picked as (
          select id from recipients
           where batch_id = ${id}::uuid and status = 'failed'
           order by id limit ${CONTROL_INLINE_ROWS}
           for update skip locked
        ), r as (
          update recipients set status = 'queued', attempts = 0, last_error = null, claim_token = null,
                                lease_until = null, updated_at = now()
            from picked where recipients.id = picked.id
          returning 1
        )
        update batches set failed = failed - (select count(*) from r)::int,
                           queued = queued + (select count(*) from r)::int,
                           -- all re-queued inline: nothing left for the planner's pages
                           retry_requested_at = case when (select count(*) from r) < ${CONTROL_INLINE_ROWS} then null else retry_requested_at end
         where id = ${id}::uuid`);
    },
  );
};

/**
 * draft|scheduled|queued|processing|paused → cancelled. The status flips at once (senders claim nothing from
 * a cancelled batch and cancel what they hold at their next call); up to CONTROL_INLINE_ROWS pending/queued
 * rows are cancelled inline with the counters, and `settle_pending` hands the rest to the consumers'
 * reconciler, which cancels them in bounded steps. Rows already claimed (`sending`) finish with their sender.
 */
export const cancelBatch: Verb = async ({ ctx, input }) => {
  const id = input.batchId;
  assertBatchIdShape(id);
  await ctx.db.transaction(async (tx) => {
    const flipped = await tx.execute(sql`
      update batches set status = 'cancelled', settle_pending = true, completed_at = now(),
                         ${controlLimitSql.bump}, updated_at = now()
       where id = ${id}::uuid and ${batchScopeSql(ctx)} and ${guard("cancel")} and ${controlLimitSql.ok}
      returning id`);
    if (!flipped.rows.length) await controlRefused(tx, ctx, id, "cancel");
    // Rows a sender is claiming right now are skipped (SKIP LOCKED): the reconciler gets them next.
    await tx.execute(sql`
      with picked as (
        select id, status from recipients
         where batch_id = ${id}::uuid and ${sql.raw(statusIn(CANCELLABLE_RECIPIENT_STATES))}
         order by id limit ${CONTROL_INLINE_ROWS}
         for update skip locked
      ), r as (
        update recipients set status = 'cancelled', last_error = 'batch cancelled', updated_at = now()
          from picked where recipients.id = picked.id
        returning picked.status as was
      )
      update batches set cancelled = cancelled + (select count(*) from r)::int,
                         queued = queued - (select count(*) from r where was = 'queued')::int
       where id = ${id}::uuid and (select count(*) from r) > 0`);
  });
  return { batch: toBatchView(await loadScopedBatch(ctx.db, ctx, id)) };
};
