/**
 * The scope of every batch query made for an API caller: the tenant AND the key's mode. A test key sees and
 * acts only on test-mode batches, a live key only on live ones; a batch outside the scope does not exist
 * (404), exactly like another tenant's (DESIGN §10). A batch's mode is set at creation and never changes.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import { batches, type Batch } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function batchScope(ctx: Pick<ServiceCtx, "tenantId" | "mode">): SQL {
  return and(eq(batches.tenantId, ctx.tenantId), eq(batches.mode, ctx.mode))!;
}

/**
 * The same scope as raw SQL for the guarded UPDATEs of the lifecycle verbs (table `batches`, unaliased): the
 * mode is part of the statement that changes the row, so a test key cannot move a live batch even if a
 * caller forgot the route-level check.
 */
export function batchScopeSql(ctx: Pick<ServiceCtx, "tenantId" | "mode">): SQL {
  return sql`tenant_id = ${ctx.tenantId}::uuid and mode = ${ctx.mode}::api_key_mode`;
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
