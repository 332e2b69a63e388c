/**
 * Scheduled batches whose time has come: scheduled → queued (guarded), pending recipients → queued and the
 * plan message in the outbox, in one transaction per batch; published after commit like a send. Called by
 * the region's BatchScheduler alarm (on time, its region only) and by the minute cron (backstop, all regions);
 * `FOR UPDATE SKIP LOCKED` plus the guarded UPDATE make overlapping runs harmless.
 */
import { sql } from "drizzle-orm";
import type { Region } from "../../core/contract";
import type { Db } from "../adapters/db";
import type { Publisher } from "../adapters/publisher";
import { enqueuePlan, publishOutboxRow, queuePendingRecipients, type OutboxRow } from "../services/batches";

const MAX_PER_RUN = 100;

export async function queueDueBatches(
  db: Db,
  publisher: Publisher,
  opts: { region?: Region } = {},
): Promise<{ queued: number; more: boolean }> {
  const inRegion = opts.region ? sql`and region = ${opts.region}` : sql``;
  let queued = 0;
  for (; queued < MAX_PER_RUN; queued++) {
    const outbox = await db.transaction(async (tx): Promise<OutboxRow | null> => {
      const res = await tx.execute<{ id: string; tenant_id: string; region: string; trace_id: string | null }>(sql`
        update batches set status = 'queued', queued_at = now(), updated_at = now()
         where id = (select id from batches
                      where status = 'scheduled' and scheduled_at <= now() ${inRegion}
                      order by scheduled_at
                      limit 1
                      for update skip locked)
           and status = 'scheduled'
        returning id, tenant_id, region, trace_id`);
      const batch = res.rows[0];
      if (!batch) return null;
      await queuePendingRecipients(tx, batch.id);
      return enqueuePlan(tx, { batchId: batch.id, tenantId: batch.tenant_id, region: batch.region, traceId: batch.trace_id });
    });
    if (!outbox) return { queued, more: false };
    await publishOutboxRow(db, publisher, outbox);
  }
  // The cap was hit: more may be due right now.
  return { queued, more: true };
}
