/** getBatch / listBatches: tenant-scoped reads; another tenant's batch does not exist (404, DESIGN §10). */
import { and, desc, eq, gt, gte, lt, lte, sql } from "drizzle-orm";
import { batches, sendConfigs, type Batch } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import { listPage, type ListPage } from "../list-page";
import type { ServiceCtx } from "../service-ctx";
import { batchEta, type BatchEta } from "./batch-eta";
import { toBatchView, type BatchView } from "./batch-view";
import { assertBatchIdShape, batchScope, loadScopedBatch } from "./scope";

export type BatchDetailView = BatchView & { eta: BatchEta | null };

/** One batch with its ETA: the batch and the rate settings of its send config in one query. */
export async function getBatch({ ctx, input }: { ctx: ServiceCtx; input: { batchId: string } }): Promise<BatchDetailView> {
  assertBatchIdShape(input.batchId);
  const [row] = await ctx.db
    .select({ batch: batches, provider: sendConfigs.provider, mode: sendConfigs.mode, rateLimitPerSecond: sendConfigs.rateLimitPerSecond })
    .from(batches)
    .innerJoin(sendConfigs, eq(sendConfigs.id, batches.sendConfigId))
    .where(and(batchScope(ctx), eq(batches.id, input.batchId)));
  if (!row) throw new AppError("not_found", `Batch ${input.batchId} not found`);
  return { ...toBatchView(row.batch), eta: batchEta(row.batch, row, new Date()) };
}

export interface ListBatchesInput {
  limit: number;
  /** The id of the last batch of the previous page. */
  starting_after?: string;
  status?: Batch["status"];
  channel?: Batch["channel"];
  /** Created-at range, Stripe's `created[gt|gte|lt|lte]`. */
  "created[gt]"?: string;
  "created[gte]"?: string;
  "created[lt]"?: string;
  "created[lte]"?: string;
}

export type BatchList = ListPage<BatchView>;

/** Newest first; `starting_after` is the id of the last batch of the previous page (a keyset cursor). */
export async function listBatches({ ctx, input }: { ctx: ServiceCtx; input: ListBatchesInput }): Promise<BatchList> {
  const scope = and(
    batchScope(ctx),
    input.status ? eq(batches.status, input.status) : undefined,
    input.channel ? eq(batches.channel, input.channel) : undefined,
    ...createdRange(input),
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

function createdRange(input: ListBatchesInput) {
  const at = (v: string | undefined) => (v === undefined ? undefined : new Date(v));
  const [gtAt, gteAt, ltAt, lteAt] = [at(input["created[gt]"]), at(input["created[gte]"]), at(input["created[lt]"]), at(input["created[lte]"])];
  return [
    gtAt ? gt(batches.createdAt, gtAt) : undefined,
    gteAt ? gte(batches.createdAt, gteAt) : undefined,
    ltAt ? lt(batches.createdAt, ltAt) : undefined,
    lteAt ? lte(batches.createdAt, lteAt) : undefined,
  ];
}
