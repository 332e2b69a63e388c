/** Shared pieces of the guarded batch transitions. */
import { sql } from "drizzle-orm";
import { canTransition, CONTROL_LIMIT, type BatchAction } from "../../../core/domain/batch-states";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";
import { loadScopedBatch } from "./scope";

/** Whose batch a verb acts on: the tenant and the key's mode (scope.ts). */
export type BatchCaller = Pick<ServiceCtx, "tenantId" | "mode">;

/**
 * Called when a guarded UPDATE matched no row: the batch is missing (or another tenant's, or the other mode's) → 404, or it is in
 * a status the transition does not start from → 409 naming that status.
 */
export async function transitionRefused(db: Executor, caller: BatchCaller, id: string, action: string): Promise<never> {
  const batch = await loadScopedBatch(db, caller, id);
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
export async function controlRefused(db: Executor, caller: BatchCaller, id: string, action: BatchAction): Promise<never> {
  const batch = await loadScopedBatch(db, caller, id);
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
