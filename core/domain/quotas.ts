/**
 * Per-tenant quotas (issue 8): plan limits stored per tenant (`tenant_quotas`, one row per tenant that has a
 * plan other than the defaults below). Exceeding one is a 429 `quota_exceeded` problem naming the quota, its
 * limit and when it resets.
 *
 * - `active_batches`: batches not yet finished (draft, scheduled, queued, processing, paused). Frees up when
 *   one completes or is cancelled, so it has no reset time.
 * - `pending_recipients`: recipients of those batches without an outcome yet (total − sent − failed −
 *   suppressed − cancelled, from the batch counters). No reset time either.
 * - `sends_per_day`: recipients queued for sending (live, not dry runs) per UTC day, reserved when a batch is
 *   sent (a scheduled batch counts on the day it was sent, not the day it runs); resets at 00:00 UTC.
 *
 * Edge-safe: no node:* imports.
 */
export const QUOTA_NAMES = ["active_batches", "pending_recipients", "sends_per_day"] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
export type QuotaLimits = Record<QuotaName, number>;

/** The default plan: what a tenant without a `tenant_quotas` row gets (also that table's column defaults). */
export const DEFAULT_QUOTAS: Readonly<QuotaLimits> = {
  active_batches: 100,
  pending_recipients: 5_000_000,
  sends_per_day: 1_000_000,
};

/** The next 00:00 UTC after `now`: when `sends_per_day` resets. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** `YYYY-MM-DD` of the UTC day of `now`: the key of the daily send counter. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}
