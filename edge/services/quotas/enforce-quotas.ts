/**
 * Quota checks at batch creation, append and send (core/domain/quotas.ts). Exceeding one is a 429
 * `quota_exceeded` problem naming the quota, its limit, the use before this request and when it resets.
 *
 * - `assertCapacity` runs INSIDE the creating transaction, after the rows are written: it reads the tenant's
 *   use including this request's own uncommitted rows, so the count is exact (suppressed and duplicate
 *   recipients never count), and throwing rolls the request back. Two concurrent requests do not see each
 *   other's rows, so together they can pass these two limits by what they add (the quotas are for capacity
 *   planning, not billing; locking the tenant would serialise every append of 10,000 rows).
 * - `reserveDailySends` is one guarded upsert on the day's counter, so concurrent sends never pass
 *   `sends_per_day` together.
 */
import { sql } from "drizzle-orm";
import { DEFAULT_QUOTAS, type QuotaName } from "../../../core/domain/quotas";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import { readTenantUsage, TODAY_UTC_SQL, type QuotaUse } from "./tenant-usage";

export function quotaExceeded(quota: QuotaName, use: QuotaUse, requested: number, retryAfterSeconds?: number): AppError {
  const when = use.resetsAt ? `it resets at ${use.resetsAt}` : "it frees up as batches complete or are cancelled";
  return new AppError(
    "quota_exceeded",
    `Quota ${quota} exceeded: limit ${use.limit}, in use ${use.used}, this request needs ${requested} more; ${when}`,
    {
      members: { quota, limit: use.limit, used: use.used, resetsAt: use.resetsAt },
      ...(retryAfterSeconds !== undefined ? { headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) } } : {}),
    },
  );
}

/** After writing `added` (batches, recipients without an outcome) in `tx`: still within both limits? */
export async function assertCapacity(tx: Executor, tenantId: string, added: { batches: number; recipients: number }): Promise<void> {
  const usage = await readTenantUsage(tx, tenantId);
  const checks: [QuotaName, number][] = [
    ["active_batches", added.batches],
    ["pending_recipients", added.recipients],
  ];
  for (const [quota, requested] of checks) {
    const use = usage[quota];
    if (requested > 0 && use.used > use.limit) {
      throw quotaExceeded(quota, { ...use, used: use.used - requested }, requested);
    }
  }
}

/** Reserves `count` of today's `sends_per_day` for the tenant, or throws the 429 (with Retry-After). */
export async function reserveDailySends(tx: Executor, tenantId: string, count: number): Promise<void> {
  if (count <= 0) return;
  const limit = sql`coalesce((select sends_per_day from tenant_quotas where tenant_id = ${tenantId}::uuid), ${DEFAULT_QUOTAS.sends_per_day})`;
  const reserved = await tx.execute(sql`
    insert into tenant_daily_sends (tenant_id, day, sends)
    select ${tenantId}::uuid, ${TODAY_UTC_SQL}, ${count} where ${count} <= ${limit}
    on conflict (tenant_id, day) do update set sends = tenant_daily_sends.sends + excluded.sends
     where tenant_daily_sends.sends + excluded.sends <= ${limit}
    returning sends`);
  if (reserved.rows.length) return;
  const usage = await readTenantUsage(tx, tenantId);
  const secondsLeft = (Date.parse(usage.sends_per_day.resetsAt!) - Date.now()) / 1000;
  throw quotaExceeded("sends_per_day", usage.sends_per_day, count, secondsLeft);
}
