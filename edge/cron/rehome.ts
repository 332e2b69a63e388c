/**
 * Re-homing (DESIGN §9): the queued and processing batches of a region that has been DOWN longer than a
 * recipient lease move to the healthy region — `batches.region` changes and a plan message for the new region
 * goes through the outbox, in one transaction per batch, published after commit like any send.
 *
 * Nobody is sent twice: the new region's planner chunks only rows that are `queued` or `sending` with an
 * expired lease, and the sender's guarded claim refuses rows under a live lease, so a recipient the dead
 * region had claimed waits for its lease (LEASE_SECONDS, 60 s) before anyone else may take it. Waiting longer
 * than a lease before re-homing means those leases have run out by the time the plan runs. The moved region
 * column is what keeps the next minute's run from re-planning the same batches again.
 */
import { sql } from "drizzle-orm";
import type { Region } from "../../core/contract";
import type { Db } from "../adapters/db";
import type { Publisher } from "../adapters/publisher";
import { enqueuePlan, publishOutboxRow, type OutboxRow } from "../services/batches";

const MAX_PER_RUN = 200;

export async function rehomeBatches(db: Db, publisher: Publisher, from: Region, to: Region): Promise<{ moved: number; batchIds: string[] }> {
  const batchIds: string[] = [];
  while (batchIds.length < MAX_PER_RUN) {
    const outbox = await db.transaction(async (tx): Promise<OutboxRow | null> => {
      // A new plan generation from the first id: the dead region's windows (plan_cursor) never reach the new
      // region's senders, so its planner must cover every unfinished row again (consumers/jobs/plan.ts).
      const res = await tx.execute<{ id: string; tenant_id: string; trace_id: string | null; plan_generation: number }>(sql`
        update batches set region = ${to}, plan_generation = plan_generation + 1, plan_cursor = 0, updated_at = now()
         where id = (select id from batches
                      where region = ${from} and status in ('queued', 'processing')
                      order by created_at
                      limit 1
                      for update skip locked)
           and region = ${from} and status in ('queued', 'processing')
        returning id, tenant_id, trace_id, plan_generation`);
      const batch = res.rows[0];
      if (!batch) return null;
      batchIds.push(batch.id);
      return enqueuePlan(tx, { batchId: batch.id, tenantId: batch.tenant_id, region: to, traceId: batch.trace_id, generation: Number(batch.plan_generation) });
    });
    if (!outbox) break;
    await publishOutboxRow(db, publisher, outbox);
  }
  return { moved: batchIds.length, batchIds };
}
