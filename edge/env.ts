/**
 * The Worker's bindings, validated once per `env` object (so once per isolate in production) and failing
 * closed: a misconfigured deployment answers a readable 500 problem instead of half-working.
 */
import { z } from "zod";
import { Region } from "../core/contract";
import { ConfigError } from "../core/domain/errors";
import type { BatchScheduler } from "./durable-objects/batch-scheduler";
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
});
export type EdgeConfig = z.infer<typeof EdgeConfig>;

/** What workerd hands the Worker: the validated strings plus the Durable Object namespaces. */
export interface Bindings {
  NATS_PUBLISHER: DurableObjectNamespace<NatsPublisher>;
  BATCH_SCHEDULER: DurableObjectNamespace<BatchScheduler>;
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
  for (const binding of ["NATS_PUBLISHER", "BATCH_SCHEDULER"] as const) {
    if (!env[binding]) throw new ConfigError(`the Worker is misconfigured: ${binding} binding missing`);
  }
  parsed.set(env, result.data);
  return result.data;
}

export function natsUrlFor(config: EdgeConfig, region: Region): string {
  return region === "ashburn" ? config.NATS_WS_URL_ASHBURN : config.NATS_WS_URL_FALKENSTEIN;
}
