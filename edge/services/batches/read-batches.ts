/** getBatch / listBatches: tenant-scoped reads; another tenant's batch does not exist (404, DESIGN §10). */
import { and, desc, eq, sql } from "drizzle-orm";
import { batches, type Batch } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import { listPage, type ListPage } from "../list-page";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView, type BatchView } from "./batch-view";
import { batchScope, loadScopedBatch } from "./scope";

export async function getBatch({ ctx, input }: { ctx: ServiceCtx; input: { batchId: string } }): Promise<BatchView> {
  return toBatchView(await loadScopedBatch(ctx.db, ctx, input.batchId));
}

export interface ListBatchesInput {
  limit: number;
  /** The id of the last batch of the previous page. */
  starting_after?: string;
  status?: Batch["status"];
  channel?: Batch["channel"];
}

export type BatchList = ListPage<BatchView>;

/** Newest first; `starting_after` is the id of the last batch of the previous page (a keyset cursor). */
export async function listBatches({ ctx, input }: { ctx: ServiceCtx; input: ListBatchesInput }): Promise<BatchList> {
  const scope = and(
    batchScope(ctx),
    input.status ? eq(batches.status, input.status) : undefined,
    input.channel ? eq(batches.channel, input.channel) : undefined,
  )!;
  let where = scope;
  if (input.starting_after) {
    const cursor = await loadScopedBatch(ctx.db, ctx, input.starting_after).catch(() => {
      throw new AppError("not_found", `Batch ${input.starting_after} (starting_after) not found`);
    });
    // Compared in SQL: created_at has microseconds, a JS Date only milliseconds.
    where = and(
      scope,
      sql`(${batches.createdAt}, ${batches.id}) < (select created_at, id from batches where id = ${cursor.id}::uuid)`,
    )!;
  }
  const rows = await ctx.db
    .select()
    .from(batches)
    .where(where)
    .orderBy(desc(batches.createdAt), desc(batches.id))
    .limit(input.limit + 1);
  return listPage(rows, input.limit, toBatchView);
}
