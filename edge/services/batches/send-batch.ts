/**
 * sendBatch: draft → queued (or → scheduled when `scheduledAt` is in the future), guarded in SQL. Queueing
 * moves every pending recipient to queued, sets the counter and writes the plan message to the outbox, all
 * in one transaction, with the day's `sends_per_day` reserved (edge/services/quotas); the publish happens
 * after commit (outbox.ts). A failed publish still answers 202: the
 * outbox row is durable and the cron sweep republishes it. A scheduled batch wakes its region's BatchScheduler
 * for `scheduled_at` after commit; if that fails the minute cron still queues it, just later.
 */
import { sql } from "drizzle-orm";
import { Region } from "../../../core/contract";
import { guardSql } from "../../../core/domain/batch-states";
import type { Executor } from "../../adapters/db";
import { reserveDailySends } from "../quotas";
import type { ServiceCtx } from "../service-ctx";
import { assertVerifiedSender } from "../domains/sender-domain";
import { toBatchView, type BatchView } from "./batch-view";
import { transitionRefused } from "./guards";
import { assertBatchIdShape, batchScopeSql, loadScopedBatch } from "./scope";
import { enqueuePlan, publishOutboxRow, type OutboxRow } from "./outbox";

/** pending → queued for a batch that just became queued, with the counter in the same statement. */
export async function queuePendingRecipients(tx: Executor, batchId: string): Promise<void> {
  await tx.execute(sql`
    with r as (
      update recipients set status = 'queued', updated_at = now()
       where batch_id = ${batchId}::uuid and status = 'pending'
      returning 1
    )
    update batches set queued = queued + (select count(*) from r)::int where id = ${batchId}::uuid`);
}

/** Awaited so the alarm is armed before the 202; never throws (the cron is the backstop). */
async function wakeScheduler(ctx: ServiceCtx, region: string, at: Date): Promise<void> {
  try {
    await ctx.wakeups.wakeAt(Region.parse(region), at);
  } catch (err) {
    console.warn(`could not arm the ${region} scheduler for ${at.toISOString()}, the cron will queue it: ${String(err)}`);
  }
}

export interface TransitionResult {
  batch: BatchView;
  /** Whether the plan message reached JetStream now (false: the outbox sweep will retry). */
  published?: boolean;
}

/** The sender rule again at send: the domain may have lost verification since the batch was created. */
async function recheckSender(db: Executor, tenantId: string, batchId: string): Promise<void> {
  const res = await db.execute<{ from: string | null; mode: "live" | "test"; config_mode: string; provider: string; channel: string }>(sql`
    select b.payload->>'from' as "from", b.mode::text as mode, c.mode::text as config_mode, c.provider::text as provider, c.channel::text as channel
      from batches b join send_configs c on c.id = b.send_config_id
     where b.id = ${batchId}::uuid and b.tenant_id = ${tenantId}::uuid and b.status = 'draft'`);
  const row = res.rows[0];
  if (!row) return; // not a sendable draft: the guarded transition below answers
  await assertVerifiedSender(db, { tenantId, mode: row.mode, config: { mode: row.config_mode, provider: row.provider, channel: row.channel }, from: row.from ?? undefined });
}

export async function sendBatch({ ctx, input }: { ctx: ServiceCtx; input: { batchId: string } }): Promise<TransitionResult> {
  const { db, tenantId } = ctx;
  const id = input.batchId;
  assertBatchIdShape(id);
  await recheckSender(db, tenantId, id);
  let wake: { region: string; at: Date } | undefined;
  const outbox = await db.transaction(async (tx): Promise<OutboxRow | null> => {
    const res = await tx.execute<{ status: string; region: string; scheduled_ms: number | string | null; to_send: number; dry_run: boolean }>(sql`
      update batches
         set status = (case when scheduled_at > now() then 'scheduled' else 'queued' end)::batch_status,
             queued_at = case when scheduled_at > now() then null else now() end,
             trace_id = ${ctx.traceId},
             updated_at = now()
       where id = ${id}::uuid and ${batchScopeSql(ctx)} and ${sql.raw(guardSql("send"))}
      returning status::text as status, region, (extract(epoch from scheduled_at) * 1000)::float8 as scheduled_ms,
                (total - sent - failed - suppressed - cancelled)::int as to_send, dry_run`);
    const row = res.rows[0];
    if (!row) return transitionRefused(tx, ctx, id, "send");
    // Today's sends_per_day, for live sends only (dry runs send nothing); a 429 rolls the transition back.
    if (!row.dry_run) await reserveDailySends(tx, tenantId, Number(row.to_send));
    // A scheduled batch keeps its recipients pending; the scheduler's alarm (or the cron) queues it when due.
    if (row.status !== "queued") {
      wake = { region: row.region, at: new Date(Number(row.scheduled_ms)) };
      return null;
    }
    await queuePendingRecipients(tx, id);
    return enqueuePlan(tx, { batchId: id, tenantId, region: row.region, traceId: ctx.traceId });
  });
  const published = outbox ? await publishOutboxRow(db, ctx.publisher, outbox) : undefined;
  if (wake) await wakeScheduler(ctx, wake.region, wake.at);
  return { batch: toBatchView(await loadScopedBatch(db, ctx, id)), published };
}
