/**
 * The scope of every batch query made for an API caller: the tenant AND the key's mode. A test key sees and
 * acts only on test-mode batches, a live key only on live ones; a batch outside the scope does not exist
 * (404), exactly like another tenant's (DESIGN §10). A batch's mode is set at creation and never changes.
 */
import { and, eq, type SQL } from "drizzle-orm";
import { batches, type Batch } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function batchScope(ctx: Pick<ServiceCtx, "tenantId" | "mode">): SQL {
  return and(eq(batches.tenantId, ctx.tenantId), eq(batches.mode, ctx.mode))!;
}

/** A malformed id is simply an id that does not exist: 404. */
export function assertBatchIdShape(id: string): void {
  if (!UUID.test(id)) throw new AppError("not_found", `Batch ${id} not found`);
}

/** The caller's batch, or 404 (malformed ids included: never a 5xx from Postgres' uuid cast). */
export async function loadScopedBatch(db: Executor, ctx: Pick<ServiceCtx, "tenantId" | "mode">, id: string): Promise<Batch> {
  assertBatchIdShape(id);
  const [batch] = await db.select().from(batches).where(and(batchScope(ctx), eq(batches.id, id)));
  if (!batch) throw new AppError("not_found", `Batch ${id} not found`);
  return batch;
}

/**
 * The lifecycle verbs (send-batch.ts, control-batch.ts) scope their guarded UPDATEs by tenant; this wrapper
 * adds the mode: a batch outside the caller's mode is a 404 before the verb runs. Sound without a lock
 * because a batch's mode never changes.
 */
export function withBatchScope<R>(verb: (args: { ctx: ServiceCtx; input: { batchId: string } }) => Promise<R>) {
  return async (args: { ctx: ServiceCtx; input: { batchId: string } }): Promise<R> => {
    await loadScopedBatch(args.ctx.db, args.ctx, args.input.batchId);
    return verb(args);
  };
}
