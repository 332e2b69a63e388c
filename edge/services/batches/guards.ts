/** Shared pieces of the guarded batch transitions. */
import { and, eq, sql } from "drizzle-orm";
import { batches, type Batch } from "../../../core/db/schema";
import { canTransition, CONTROL_LIMIT, type BatchAction } from "../../../core/domain/batch-states";
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

/**
 * The per-batch control-call window (CONTROL_LIMIT), as SQL for a guarded UPDATE: `limitOk` goes into the
 * WHERE clause, `limitBump` into the SET list. The window and its counter live on the batch row, so the
 * limit holds across every edge isolate without another store.
 */
export const controlLimitSql = {
  ok: sql.raw(
    `(control_window_at is null or control_window_at <= now() - make_interval(secs => ${CONTROL_LIMIT.windowSeconds}) or control_calls < ${CONTROL_LIMIT.calls})`,
  ),
  bump: sql.raw(
    `control_calls = case when control_window_at > now() - make_interval(secs => ${CONTROL_LIMIT.windowSeconds}) then control_calls + 1 else 1 end,
     control_window_at = case when control_window_at > now() - make_interval(secs => ${CONTROL_LIMIT.windowSeconds}) then control_window_at else now() end`,
  ),
};

/**
 * A guarded control UPDATE matched no row: 429 with Retry-After when the batch could take the action but its
 * control window is used up, otherwise what `transitionRefused` says (404 / 409).
 */
export async function controlRefused(db: Executor, tenantId: string, id: string, action: BatchAction): Promise<never> {
  const batch = await loadBatch(db, tenantId, id);
  if (canTransition(action, batch.status)) {
    const res = await db.execute<{ wait: number | string | null }>(sql`
      select ceil(extract(epoch from control_window_at + make_interval(secs => ${CONTROL_LIMIT.windowSeconds}) - now()))::int as wait
        from batches where id = ${id}::uuid and control_calls >= ${CONTROL_LIMIT.calls}`);
    const wait = res.rows[0]?.wait;
    if (wait !== undefined && wait !== null && Number(wait) > 0) {
      throw new AppError(
        "rate_limited",
        `At most ${CONTROL_LIMIT.calls} pause/resume/cancel/retry calls per batch per ${CONTROL_LIMIT.windowSeconds} s; retry in ${Number(wait)} s`,
        { headers: { "Retry-After": String(Number(wait)) } },
      );
    }
  }
  throw new AppError("conflict", `Cannot ${ACTION_WORD[action]} a batch that is ${batch.status}`);
}

const ACTION_WORD: Record<BatchAction, string> = {
  send: "send",
  schedule: "schedule",
  queueDue: "queue",
  pause: "pause",
  resume: "resume",
  cancel: "cancel",
  retry: "retry",
  deleteDraft: "delete",
  planStart: "plan",
  complete: "complete",
};
