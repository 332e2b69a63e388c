/**
 * The suppression list's vocabulary, shared by the API (edge/services/suppressions), the events consumer
 * (bounces, complaints, STOP) and the one-click unsubscribe. Addresses on the list are normalised with
 * core/domain/address.ts exactly like recipients, so the insert-time check (edge recipient-rows.ts) and the
 * claim-time check (consumers/jobs/recipient-store.ts) compare equal strings.
 *
 * Edge-safe: no node:* imports.
 */
export const SUPPRESSION_REASONS = ["hard_bounce", "complaint", "unsubscribe", "stop", "manual"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];
