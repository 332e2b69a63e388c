/** Shared pieces of the guarded batch transitions. */
import { and, eq } from "drizzle-orm";
import { batches, type Batch } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id is simply an id that does not exist: 404, never a 5xx from Postgres' uuid cast. */
export function assertBatchId(id: string): void {
  if (!UUID.test(id)) throw new AppError("not_found", `Batch ${id} not found`);
}

export async function loadBatch(db: Executor, tenantId: string, id: string): Promise<Batch> {
  assertBatchId(id);
  const [batch] = await db.select().from(batches).where(and(eq(batches.id, id), eq(batches.tenantId, tenantId)));
  if (!batch) throw new AppError("not_found", `Batch ${id} not found`);
  return batch;
}

/**
 * Called when a guarded UPDATE matched no row: the batch is missing (or another tenant's) → 404, or it is in
 * a status the transition does not start from → 409 naming that status.
 */
export async function transitionRefused(db: Executor, tenantId: string, id: string, action: string): Promise<never> {
  const batch = await loadBatch(db, tenantId, id);
  throw new AppError("conflict", `Cannot ${action} a batch that is ${batch.status}`);
}
