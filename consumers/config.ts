/**
 * The consumer's configuration: `process.env` validated once at the boundary (CONVENTIONS 2). Bad config is
 * a deployment error: `loadConfig` exits 1 with one readable message instead of failing later mid-send.
 * Managed rate-limit overrides (MANAGED_*_RPS, TENANT_SEND_RPS…) are parsed by consumers/ratelimit/limits.ts
 * from the same env; this schema keeps everything else (the plan-window and reconciler settings are defined
 * here and read by their modules with the same schemas).
 */
import { z } from "zod";
import { Region } from "../core/contract";
import { ConfigError } from "../core/domain/errors";
import { EncryptionKeysSetting, HostListSetting } from "../core/domain/settings";

export { ConfigError };

/** Windowed planning (consumers/jobs/plan-window.ts reads these from the same env). */
export const PlanWindowEnv = z.object({
  /** Seconds of sending (at the batch's bucket rate) one batch may have planned ahead. */
  PLAN_WINDOW_SECONDS: z.coerce.number().positive().max(3600).default(5),
  PLAN_WINDOW_MIN_CHUNKS: z.coerce.number().int().min(1).max(10_000).default(4),
  PLAN_WINDOW_MAX_CHUNKS: z.coerce.number().int().min(1).max(100_000).default(200),
});

/** The reconciler (consumers/jobs/reconcile.ts reads these from the same env). */
export const ReconcileEnv = z.object({
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(1000),
  /** A `processing` batch without progress for this long is re-planned. */
  RECONCILE_STALE_SECONDS: z.coerce.number().min(1).max(86_400).default(120),
  /** Bounded steps one cancelled batch gets per tick. */
  RECONCILE_SETTLE_STEPS: z.coerce.number().int().min(1).max(1000).default(20),
});

export const ConsumerConfig = z.object({
  REGION: Region,
  DATABASE_URL: z.string().url(),
  REDIS_URL: z.string().url(),
  NATS_URL: z.string().min(1),
  /**
   * Replicas of every JetStream stream this process creates or updates: 1 for the single local nats-server,
   * 3 on the production 3-node clusters (k8s/base/consumer-config.yaml).
   */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535),
  /** 127.0.0.1 locally; the k8s manifests set 0.0.0.0 so probes and Prometheus can reach the pod. */
  HTTP_HOST: z.string().default("127.0.0.1"),
  SES_ENDPOINT: z.string().url().optional(),
  SES_REGION: z.string().min(1),
  SES_ACCESS_KEY_ID: z.string().min(1),
  SES_SECRET_ACCESS_KEY: z.string().min(1),
  RESEND_API_URL: z.string().url().default("https://api.resend.com"),
  RESEND_API_KEY: z.string().min(1),
  TELNYX_API_URL: z.string().url().default("https://api.telnyx.com"),
  TELNYX_API_KEY: z.string().min(1),
  TELNYX_MESSAGING_PROFILE_ID: z.string().min(1),
  ENCRYPTION_KEYS: EncryptionKeysSetting,
  /** Analytics (consumers/analytics); without it nothing is written to ClickHouse. */
  CLICKHOUSE_URL: z.string().url().optional(),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z0-9_]+$/).default("batchsender"),
  /** Chunks processed at once by one process, per channel. */
  SENDER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /**
   * Hosts the webhook SSRF guard lets through even though they resolve to private addresses. Tests only
   * (a receiver on 127.0.0.1); empty in production.
   */
  WEBHOOK_ALLOWED_HOSTS: HostListSetting,
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Seconds SIGTERM waits for in-flight chunks before releasing their claims. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(1).max(300).default(30),
  ...PlanWindowEnv.shape,
  ...ReconcileEnv.shape,
});
export type ConsumerConfig = z.infer<typeof ConsumerConfig>;

export function parseConfig(env: Record<string, string | undefined>): ConsumerConfig {
  const res = ConsumerConfig.safeParse(env);
  if (res.success) return res.data;
  const lines = res.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`);
  throw new ConfigError(`invalid consumer configuration: ${lines.join("; ")}`);
}

/** Parses `process.env`; on error prints one line to stderr and exits 1 (fail closed). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  try {
    return parseConfig(env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
