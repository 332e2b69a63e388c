/**
 * Which buckets one provider call takes from, and what it costs in each (DESIGN §6). Pure: config in, specs out.
 *
 * Units follow how each provider counts:
 * - SES: its "maximum send rate" counts messages, one per recipient (new production accounts commonly get
 *   14/s, sandbox accounts 1/s). Our SES client sends one recipient per SendEmail, so request and recipient
 *   buckets move together; both exist so a multi-recipient call would still be charged correctly.
 * - Resend: 2 requests/s per team by default; `/emails/batch` (up to 100 emails) is ONE request. No
 *   recipient limit by default (set MANAGED_RESEND_RECIPIENTS_RPS if the plan has one).
 * - Telnyx: the account API takes ~100 requests/s; a long code sends ~1 msg/s, but Telnyx queues over-rate
 *   messages per number itself, so the account API rate is what we must not exceed.
 * - Webhook: the customer's endpoint; its send config's rate (or a default) protects it.
 *
 * Managed mode takes this region's share of the shared provider account + the tenant bucket; BYOK takes the
 * send config's own bucket + the tenant bucket, never managed capacity. Per-config rates are split between
 * regions by the same share: a config's batches may be homed in either region, and the limit is the
 * customer's account, not ours. Every key names its region so a store shared by both regions (as locally)
 * still keeps the shares apart.
 *
 * Capacity: provider buckets hold max(1, cost) — strict pacing, so no second ever sees more than the
 * provider's rate (DESIGN §11). The tenant bucket (fairness, not a provider limit) allows one second of
 * burst. A cost above one second's worth (a batch of 100 against 14/s) waits until that many tokens have
 * accumulated: the call cannot be split, but the long-run rate holds.
 */
import { z } from "zod";
import { ConfigError } from "../config";
import { CONFIG_UNIT, DEFAULT_MANAGED_LIMITS, type ManagedLimits, type RegionShare, type SendProvider } from "../../core/domain/send-rate";
import type { BucketSpec } from "./interface";

export type { ManagedLimits, ManagedProvider, ProviderLimits, RegionShare, SendProvider } from "../../core/domain/send-rate";
export { DEFAULT_MANAGED_LIMITS };
export type Region = "falkenstein" | "ashburn";

export interface SendInput {
  provider: SendProvider;
  mode: "managed" | "byok";
  region: Region;
  tenantId: string;
  sendConfigId: string;
  byokRatePerSecond?: number | null;
  /** Messages in this provider call. */
  recipients: number;
}

/**
 * Provider buckets hold at most 5% of a second's tokens (and never less than one call's cost). Any one-second
 * window then sees at most rate × 1.05 calls — the burst can never push a provider far past its quota — while
 * the slack absorbs the wake-up lag of waiting senders, so the sustained rate stays at the limit instead of
 * losing every token that accrues while nobody happens to be asking.
 */
export const PROVIDER_BURST_FRACTION = 0.05;

function providerBucket(key: string, ratePerSecond: number, cost: number): BucketSpec {
  // A region with a share of 0 has no capacity at all: say so instead of waiting forever for tokens.
  if (!(ratePerSecond > 0)) throw new Error(`${key} has no capacity (rate ${ratePerSecond}/s): check the region share`);
  return { key, ratePerSecond, capacity: Math.max(1, cost, Math.floor(ratePerSecond * PROVIDER_BURST_FRACTION)), cost };
}

export function bucketsForSend(input: SendInput, limits: ManagedLimits): BucketSpec[] {
  const { provider, region, recipients } = input;
  if (!Number.isInteger(recipients) || recipients < 1) throw new Error(`recipients must be a positive integer, got ${recipients}`);
  const specs: BucketSpec[] = [];

  if (input.mode === "managed" && provider !== "webhook") {
    const p = limits[provider];
    const share = p.regionShare[region];
    const base = `bucket:managed:${provider}:${region}`;
    specs.push(providerBucket(`${base}:requests`, p.requestsPerSecond * share, 1));
    if (p.recipientsPerSecond) specs.push(providerBucket(`${base}:recipients`, p.recipientsPerSecond * share, recipients));
  } else {
    // BYOK, and webhooks in either mode: the config's own account or endpoint.
    const rate = input.byokRatePerSecond || limits.configDefaultPerSecond[provider];
    const unit = CONFIG_UNIT[provider];
    const key = `bucket:${provider === "webhook" ? "webhook" : "byok"}:${input.sendConfigId}:${region}:${unit}`;
    specs.push(providerBucket(key, rate * limits.configRegionShare[region], unit === "requests" ? 1 : recipients));
  }

  specs.push({
    key: `bucket:tenant:${input.tenantId}:${region}:messages`,
    ratePerSecond: limits.tenantPerSecond,
    capacity: Math.max(limits.tenantPerSecond, recipients),
    cost: recipients,
  });
  return specs;
}

const optionalRate = z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().positive().max(1_000_000).optional());

export const ManagedLimitsEnv = z.object({
  MANAGED_SES_RPS: optionalRate,
  MANAGED_SES_RECIPIENTS_RPS: optionalRate,
  MANAGED_RESEND_RPS: optionalRate,
  MANAGED_RESEND_RECIPIENTS_RPS: optionalRate,
  MANAGED_TELNYX_RPS: optionalRate,
  /** Falkenstein's share of every managed account and per-config rate; Ashburn gets the rest. */
  MANAGED_SHARE_FALKENSTEIN: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().min(0).max(1).optional()),
  TENANT_SEND_RPS: optionalRate,
  WEBHOOK_DEFAULT_RPS: optionalRate,
});
export type ManagedLimitsEnv = z.infer<typeof ManagedLimitsEnv>;

/** Defaults overridden by env; throws ConfigError with one readable line when a value is invalid. */
export function parseManagedLimits(env: Record<string, string | undefined>): ManagedLimits {
  const res = ManagedLimitsEnv.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid rate-limit configuration: ${lines.join("; ")}`);
  }
  const e = res.data;
  const d = DEFAULT_MANAGED_LIMITS;
  const f = e.MANAGED_SHARE_FALKENSTEIN ?? d.ses.regionShare.falkenstein;
  const share: RegionShare = { falkenstein: f, ashburn: 1 - f };
  const sesRps = e.MANAGED_SES_RPS ?? d.ses.requestsPerSecond;
  return {
    // SES counts recipients: overriding its rate moves the recipient bucket too unless set separately.
    ses: { requestsPerSecond: sesRps, recipientsPerSecond: e.MANAGED_SES_RECIPIENTS_RPS ?? sesRps, regionShare: share },
    resend: {
      requestsPerSecond: e.MANAGED_RESEND_RPS ?? d.resend.requestsPerSecond,
      ...(e.MANAGED_RESEND_RECIPIENTS_RPS ? { recipientsPerSecond: e.MANAGED_RESEND_RECIPIENTS_RPS } : {}),
      regionShare: share,
    },
    telnyx: { requestsPerSecond: e.MANAGED_TELNYX_RPS ?? d.telnyx.requestsPerSecond, regionShare: share },
    tenantPerSecond: e.TENANT_SEND_RPS ?? d.tenantPerSecond,
    configDefaultPerSecond: { ...d.configDefaultPerSecond, webhook: e.WEBHOOK_DEFAULT_RPS ?? d.configDefaultPerSecond.webhook },
    configRegionShare: share,
  };
}
