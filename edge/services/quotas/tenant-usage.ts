/**
 * A tenant's quotas (core/domain/quotas.ts) and its current use of each, read in one statement: the plan row
 * (or the defaults), active batches and their pending recipients from the batch counters (no recipient scan),
 * and today's reserved sends. Test- and live-mode batches both count: they use the same database and planner.
 */
import { sql } from "drizzle-orm";
import { DEFAULT_QUOTAS, type QuotaName } from "../../../core/domain/quotas";
import type { Executor } from "../../adapters/db";

/** Batch states that hold a place in `active_batches` (everything not finished). */
export const ACTIVE_STATUSES_SQL = sql.raw(`('draft', 'scheduled', 'queued', 'processing', 'paused')`);

/** The UTC day the database is in: the daily counter's key (the database's clock, not the isolate's). */
export const TODAY_UTC_SQL = sql.raw(`(now() at time zone 'utc')::date`);

export interface QuotaUse {
  limit: number;
  used: number;
  /** When it resets (ISO 8601), or null when it frees up as batches finish. */
  resetsAt: string | null;
}

export type TenantUsage = Record<QuotaName, QuotaUse>;

export async function readTenantUsage(db: Executor, tenantId: string): Promise<TenantUsage> {
  const res = await db.execute<{
    active_batches_limit: number | null;
    pending_recipients_limit: number | null;
    sends_per_day_limit: number | null;
    active_batches: number | string;
    pending_recipients: number | string;
    sends_today: number | string;
    resets_at: string;
  }>(sql`
    select q.active_batches as active_batches_limit, q.pending_recipients as pending_recipients_limit,
           q.sends_per_day as sends_per_day_limit,
           coalesce(b.n, 0) as active_batches, coalesce(b.pending, 0) as pending_recipients,
           coalesce((select sends from tenant_daily_sends d where d.tenant_id = ${tenantId}::uuid and d.day = ${TODAY_UTC_SQL}), 0) as sends_today,
           to_char(((${TODAY_UTC_SQL} + 1)::timestamp at time zone 'utc') at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as resets_at
      from (select 1) one
      left join tenant_quotas q on q.tenant_id = ${tenantId}::uuid
      left join lateral (
        select count(*) as n, sum(greatest(total - sent - failed - suppressed - cancelled, 0)) as pending
          from batches where tenant_id = ${tenantId}::uuid and status in ${ACTIVE_STATUSES_SQL}) b on true`);
  const r = res.rows[0]!;
  return {
    active_batches: { limit: r.active_batches_limit ?? DEFAULT_QUOTAS.active_batches, used: Number(r.active_batches), resetsAt: null },
    pending_recipients: { limit: r.pending_recipients_limit ?? DEFAULT_QUOTAS.pending_recipients, used: Number(r.pending_recipients), resetsAt: null },
    sends_per_day: { limit: r.sends_per_day_limit ?? DEFAULT_QUOTAS.sends_per_day, used: Number(r.sends_today), resetsAt: r.resets_at },
  };
}
