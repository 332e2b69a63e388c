/**
 * deleteBatch: a draft, and only a draft, is deleted with its recipients (like Stripe's and Resend's
 * deletes: a batch that was sent is history, cancel it instead). A million-recipient draft is deleted in
 * bounded steps of DELETE_STEP rows, each its own short statement, so no statement holds a million row locks
 * or blocks the group commit of results; every step is guarded on the batch still being the caller's draft,
 * so a batch that is sent between steps keeps the recipients it has left. The batch row goes last, guarded
 * the same way (the cascade then removes only what a racing append added).
 */
import { sql } from "drizzle-orm";
import { guardSql } from "../../../core/domain/batch-states";
import type { ServiceCtx } from "../service-ctx";
import { transitionRefused } from "./guards";
import { assertBatchIdShape, batchScopeSql } from "./scope";

/** Recipients removed per statement. */
export const DELETE_STEP = 10_000;

export interface DeletedBatch {
  id: string;
  object: "batch";
  deleted: true;
}

export async function deleteBatch({ ctx, input }: { ctx: ServiceCtx; input: { batchId: string } }): Promise<DeletedBatch> {
  const id = input.batchId;
  assertBatchIdShape(id);
  const draftOfCaller = sql`exists (select 1 from batches where id = ${id}::uuid and ${batchScopeSql(ctx)} and ${sql.raw(guardSql("deleteDraft"))})`;
  for (;;) {
    const res = await ctx.db.execute(sql`
      delete from recipients
       where id in (select id from recipients where batch_id = ${id}::uuid order by id limit ${DELETE_STEP})
         and ${draftOfCaller}`);
    if ((res.rowCount ?? 0) < DELETE_STEP) break;
  }
  const gone = await ctx.db.execute(sql`
    delete from batches where id = ${id}::uuid and ${batchScopeSql(ctx)} and ${sql.raw(guardSql("deleteDraft"))} returning id`);
  if (!gone.rows.length) await transitionRefused(ctx.db, ctx, id, "delete");
  return { id, object: "batch", deleted: true };
}
