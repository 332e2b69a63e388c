/**
 * How fast a batch can send: the managed provider accounts' rates, the per-config defaults and the
 * recipients-per-second a batch's buckets allow (DESIGN §6). Shared by the consumers (the token buckets in
 * consumers/ratelimit/limits.ts and the plan window) and the edge (a batch's ETA), so the ETA the API shows
 * is computed from the same rates the senders are paced by.
 *
 * Edge-safe: no node:* imports. Env overrides of these defaults are parsed by the consumers
 * (consumers/ratelimit/limits.ts `parseManagedLimits`).
 */
import type { Provider, Region } from "./channels";

export type SendProvider = Provider;
export type ManagedProvider = Exclude<SendProvider, "webhook">;

export interface RegionShare {
  falkenstein: number;
  ashburn: number;
}

export interface ProviderLimits {
  requestsPerSecond: number;
  recipientsPerSecond?: number;
  /** This provider account's rate split between the regions; sums to 1. */
  regionShare: RegionShare;
}

export interface ManagedLimits {
  ses: ProviderLimits;
  resend: ProviderLimits;
  telnyx: ProviderLimits;
  /** Messages per second one tenant may send in one region, managed and BYOK alike. */
  tenantPerSecond: number;
  /** Rate assumed for a BYOK config or webhook endpoint that sets none of its own (in the provider's unit). */
  configDefaultPerSecond: Record<SendProvider, number>;
  /** Split of per-config (BYOK, webhook) rates between the regions. */
  configRegionShare: RegionShare;
}

const HALF: RegionShare = { falkenstein: 0.5, ashburn: 0.5 };

export const DEFAULT_MANAGED_LIMITS: ManagedLimits = {
  ses: { requestsPerSecond: 14, recipientsPerSecond: 14, regionShare: HALF },
  resend: { requestsPerSecond: 2, regionShare: HALF },
  telnyx: { requestsPerSecond: 100, regionShare: HALF },
  tenantPerSecond: 100,
  // A BYOK account's defaults: SES sandbox 1/s, Resend 2 req/s, Telnyx one long code ~1 msg/s.
  configDefaultPerSecond: { ses: 1, resend: 2, telnyx: 1, webhook: 10 },
  configRegionShare: HALF,
};

/** What one unit of a per-config (BYOK / webhook) rate counts. */
export const CONFIG_UNIT: Record<SendProvider, "requests" | "recipients"> = {
  ses: "recipients",
  resend: "requests",
  telnyx: "recipients",
  webhook: "requests",
};

/** Recipients one provider call carries at most (a Resend batch call is one request for 100). */
export const PER_CALL: Record<SendProvider, number> = { ses: 1, resend: 100, telnyx: 1, webhook: 1 };

export interface BatchRate {
  provider: SendProvider;
  mode: "managed" | "byok";
  rateLimitPerSecond: number | null;
  dryRun: boolean;
}

/**
 * The recipients per second this batch's buckets allow in `region` (tenant bucket included), assuming the
 * batch has its buckets to itself. Infinity for a dry run (no provider call, no pacing).
 */
export function recipientsPerSecond(b: BatchRate, region: Region, limits: ManagedLimits): number {
  if (b.dryRun) return Infinity;
  let rate: number;
  if (b.mode === "managed" && b.provider !== "webhook") {
    const p = limits[b.provider];
    const share = p.regionShare[region];
    rate = p.requestsPerSecond * share * PER_CALL[b.provider];
    if (p.recipientsPerSecond) rate = Math.min(rate, p.recipientsPerSecond * share);
  } else {
    const r = (b.rateLimitPerSecond || limits.configDefaultPerSecond[b.provider]) * limits.configRegionShare[region];
    rate = CONFIG_UNIT[b.provider] === "requests" ? r * PER_CALL[b.provider] : r;
  }
  return Math.min(rate, limits.tenantPerSecond);
}
