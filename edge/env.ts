/**
 * The Worker's bindings, validated once per `env` object (so once per isolate in production) and failing
 * closed: a misconfigured deployment answers a readable 500 problem instead of half-working.
 */
import { z } from "zod";
import { Region } from "../core/contract";
import { ConfigError } from "../core/domain/errors";
import { EncryptionKeysSetting, HostListSetting } from "../core/domain/settings";
import type { BatchScheduler } from "./durable-objects/batch-scheduler";
import type { FailoverState } from "./durable-objects/failover-state";
import type { NatsPublisher } from "./durable-objects/nats-publisher";

export { ConfigError };

/** `"60 s"`, `"10 m"`, `"1 h"`: the window format @upstash/ratelimit accepts. */
const RateWindow = z
  .string()
  .regex(/^\d+ ?(ms|s|m|h|d)$/, 'a duration like "60 s"')
  .transform((v) => v as `${number} ${"ms" | "s" | "m" | "h" | "d"}` | `${number}${"ms" | "s" | "m" | "h" | "d"}`);

const positiveInt = z.coerce.number().int().positive();
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

export const EdgeConfig = z.object({
  ENVIRONMENT: z.enum(["production", "staging", "development", "test"]),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL"),
  /** Local only: host:port/path of the WebSocket→TCP proxy in front of plain Postgres. */
  NEON_WS_PROXY: optionalSecret,
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  NATS_WS_URL_FALKENSTEIN: z.url({ protocol: /^wss?$/ }),
  NATS_WS_URL_ASHBURN: z.url({ protocol: /^wss?$/ }),
  NATS_TOKEN: optionalSecret,
  NATS_USER: optionalSecret,
  NATS_PASS: optionalSecret,
  IP_RATE_LIMIT: positiveInt,
  IP_RATE_WINDOW: RateWindow,
  KEY_RATE_LIMIT: positiveInt,
  KEY_RATE_WINDOW: RateWindow,
  RATE_LIMIT_FAILURE_POLICY: z.enum(["open", "closed"]),
  RATE_LIMIT_TIMEOUT_MS: positiveInt.max(10_000),
  DEFAULT_REGION: Region,
  /** The dashboard's origin (`https://dashboard.batchsender.com`): the only one that gets CORS headers. */
  DASHBOARD_ORIGIN: z.url({ protocol: /^https?$/ }).refine((v) => new URL(v).origin === v, "an origin: scheme://host[:port], no path or trailing slash"),
  ...ProviderWebhookFields(),
  /**
   * Sealing keys by id, JSON `{"<key id>": "<base64 32 bytes>"}`: the same keys the consumers open BYOK
   * credentials with; unset = routes that store secrets (webhook endpoints, BYOK configs) answer a config 500.
   */
  ENCRYPTION_KEYS: EncryptionKeysSetting.optional(),
  /** Which of ENCRYPTION_KEYS seals new secrets (the others only open old ones). */
  ENCRYPTION_KEY_ID: optionalSecret,
  /**
   * Hosts a customer webhook endpoint may name although they are private (local development: 127.0.0.1).
   * Production sets none. The consumers' WEBHOOK_ALLOWED_HOSTS is the same list for the delivery side.
   */
  WEBHOOK_ALLOWED_HOSTS: HostListSetting,
  ...FailoverFields(),
  ...ProviderFields(),
});
export type EdgeConfig = z.infer<typeof EdgeConfig>;

/**
 * Provider webhooks in (edge/routes/provider-webhooks/). Each provider's route answers 404 until its setting
 * is there: SNS_TOPIC_ARNS for SES, RESEND_WEBHOOK_SECRETS for Resend, TELNYX_PUBLIC_KEY for Telnyx.
 */
function ProviderWebhookFields() {
  const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
  const list = z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    );
  return {
    /** Comma-separated SNS topic ARNs whose notifications (and subscription confirmations) are accepted. */
    SNS_TOPIC_ARNS: list,
    /** Hosts SigningCertURL may name (a regular expression); AWS's own pattern unless the sandbox sets one. */
    SNS_CERT_HOST_PATTERN: z
      .string()
      .default("^sns\\.[a-zA-Z0-9\\-]{3,}\\.amazonaws\\.com(\\.cn)?$")
      .refine((p) => {
        try {
          new RegExp(p);
          return p.startsWith("^") && p.endsWith("$");
        } catch {
          return false;
        }
      }, "a regular expression anchored with ^ and $")
      .transform((p) => new RegExp(p)),
    /** Local sandbox only: allow an http:// SigningCertURL. Never true in Cloudflare. */
    SNS_CERT_ALLOW_HTTP: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
    /** Comma-separated Resend (Svix) signing secrets `whsec_…`; two during a rotation. */
    RESEND_WEBHOOK_SECRETS: list.pipe(z.array(z.string().startsWith("whsec_"))),
    /** Telnyx's Ed25519 public key: base64 of the 32 raw bytes from the portal. */
    TELNYX_PUBLIC_KEY: unsetIfEmpty(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "base64 of 32 bytes")),
  };
}

/**
 * Region failover (edge/cron/failover.ts, docs/runbooks/failover.md). Off unless both health URLs are set; the
 * DNS switch is off unless CLOUDFLARE_ZONE_ID is set. Everything else has a production default.
 */
function FailoverFields() {
  const bool = z.enum(["true", "false"]).transform((v) => v === "true");
  // wrangler.toml lists every setting in every environment; "" there means "unset" (failover off).
  const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
  return {
    /** The region that should serve when healthy; the other one is the secondary. */
    FAILOVER_PRIMARY: Region.default("falkenstein"),
    FAILOVER_HEALTH_URL_FALKENSTEIN: unsetIfEmpty(z.url({ protocol: /^https?$/ })),
    FAILOVER_HEALTH_URL_ASHBURN: unsetIfEmpty(z.url({ protocol: /^https?$/ })),
    /** Consecutive failed probes of the primary before failing over (only while the secondary is healthy). */
    FAILOVER_FAIL_AFTER: positiveInt.max(100).default(3),
    /** Consecutive healthy probes of the primary before failing back. */
    FAILOVER_RECOVER_AFTER: positiveInt.max(1000).default(8),
    FAILOVER_PROBES_PER_RUN: positiveInt.max(12).default(4),
    /** Pause between the probes of one run: 4 × 14 s spreads a run over the minute with room to finish. */
    FAILOVER_PROBE_SPACING_MS: z.coerce.number().int().min(0).max(20_000).default(14_000),
    FAILOVER_PROBE_TIMEOUT_MS: positiveInt.max(10_000).default(3_000),
    /** A region down this long (longer than a recipient lease, 60 s, plus clock skew) has its batches re-homed. */
    FAILOVER_REHOME_AFTER_SECONDS: positiveInt.default(90),
    /** Name of the FailoverState instance; one per deployment ("global"). */
    FAILOVER_STATE_NAME: z.string().min(1).default("global"),
    /** How long an isolate may reuse the region map it read for routing publishes. */
    FAILOVER_MAP_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    /** Slack/Discord-compatible incoming webhook (JSON with `text` and `content`). */
    ALERT_WEBHOOK: unsetIfEmpty(z.url({ protocol: /^https?$/ })),
    CLOUDFLARE_API_BASE: z.url({ protocol: /^https?$/ }).default("https://api.cloudflare.com/client/v4"),
    /** API token with DNS:Edit on this one zone only. */
    CLOUDFLARE_API_TOKEN: optionalSecret,
    CLOUDFLARE_ZONE_ID: optionalSecret,
    /** The record the edge's NATS WebSocket endpoint resolves through, e.g. `nats.batchsender.com`. */
    FAILOVER_DNS_RECORD_NAME: unsetIfEmpty(z.string().min(1)),
    FAILOVER_DNS_RECORD_TYPE: z.enum(["CNAME", "A", "AAAA"]).default("CNAME"),
    FAILOVER_DNS_CONTENT_FALKENSTEIN: unsetIfEmpty(z.string().min(1)),
    FAILOVER_DNS_CONTENT_ASHBURN: unsetIfEmpty(z.string().min(1)),
    FAILOVER_DNS_PROXIED: bool.default(false),
    /** 1 = automatic (required for proxied records), else 60–86400 s. */
    FAILOVER_DNS_TTL: z.coerce.number().int().refine((v) => v === 1 || (v >= 60 && v <= 86_400), "1 or 60–86400").default(60),
    /** Bearer token of the admin routes; unset = the routes answer 404. */
    ADMIN_TOKEN: optionalSecret,
  };
}

/**
 * The managed provider accounts the account routes talk to (sending-domain identities) and
 * the keys that seal BYOK credentials. Optional so a deployment without them still serves batches; a route
 * that needs one answers a 500 problem naming it (ConfigError), never a half-done write.
 */
function ProviderFields() {
  const url = z.url({ protocol: /^https?$/ });
  return {
    /** Endpoint override (the local sandbox); unset = `https://email.<SES_REGION>.amazonaws.com`. */
    SES_ENDPOINT: z.preprocess((v) => (v === "" ? undefined : v), url.optional()),
    SES_REGION: z.preprocess((v) => (v === "" ? undefined : v), z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/).optional()),
    SES_ACCESS_KEY_ID: optionalSecret,
    SES_SECRET_ACCESS_KEY: optionalSecret,
    RESEND_API_URL: url.default("https://api.resend.com"),
    RESEND_API_KEY: optionalSecret,
  };
}

/** Cross-field rules of the failover settings: half a configuration is a misconfiguration. */
function failoverIssues(c: EdgeConfig): string[] {
  const issues: string[] = [];
  if (!!c.FAILOVER_HEALTH_URL_FALKENSTEIN !== !!c.FAILOVER_HEALTH_URL_ASHBURN) {
    issues.push("FAILOVER_HEALTH_URL_FALKENSTEIN and FAILOVER_HEALTH_URL_ASHBURN go together");
  }
  if (c.CLOUDFLARE_ZONE_ID) {
    for (const k of ["CLOUDFLARE_API_TOKEN", "FAILOVER_DNS_RECORD_NAME", "FAILOVER_DNS_CONTENT_FALKENSTEIN", "FAILOVER_DNS_CONTENT_ASHBURN"] as const) {
      if (!c[k]) issues.push(`${k} (required with CLOUDFLARE_ZONE_ID)`);
    }
  }
  if (c.ENCRYPTION_KEY_ID && !c.ENCRYPTION_KEYS?.[c.ENCRYPTION_KEY_ID]) issues.push("ENCRYPTION_KEY_ID (must name a key of ENCRYPTION_KEYS)");
  if (c.FAILOVER_DNS_PROXIED && c.FAILOVER_DNS_TTL !== 1) issues.push("FAILOVER_DNS_TTL (a proxied record needs 1 = automatic)");
  return issues;
}

/** What workerd hands the Worker: the validated strings plus the Durable Object namespaces. */
export interface Bindings {
  NATS_PUBLISHER: DurableObjectNamespace<NatsPublisher>;
  BATCH_SCHEDULER: DurableObjectNamespace<BatchScheduler>;
  FAILOVER_STATE: DurableObjectNamespace<FailoverState>;
  [name: string]: unknown;
}

// Per-isolate cache keyed by the env object itself: tests call the handler with their own env objects.
const parsed = new WeakMap<object, EdgeConfig>();

export function loadConfig(env: Bindings): EdgeConfig {
  const hit = parsed.get(env);
  if (hit) return hit;
  const result = EdgeConfig.safeParse(env);
  if (!result.success) {
    // Names only, never values: these are secrets.
    const fields = result.error.issues.map((i) => `${i.path.join(".")} (${i.message})`).join(", ");
    throw new ConfigError(`the Worker is misconfigured: ${fields}`);
  }
  const crossField = failoverIssues(result.data);
  if (crossField.length) throw new ConfigError(`the Worker is misconfigured: ${crossField.join(", ")}`);
  for (const binding of ["NATS_PUBLISHER", "BATCH_SCHEDULER", "FAILOVER_STATE"] as const) {
    if (!env[binding]) throw new ConfigError(`the Worker is misconfigured: ${binding} binding missing`);
  }
  parsed.set(env, result.data);
  return result.data;
}

export function natsUrlFor(config: EdgeConfig, region: Region): string {
  return region === "ashburn" ? config.NATS_WS_URL_ASHBURN : config.NATS_WS_URL_FALKENSTEIN;
}
