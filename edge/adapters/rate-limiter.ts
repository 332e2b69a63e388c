/**
 * Sliding-window limits (@upstash/ratelimit over Upstash Redis REST) with an explicit failure policy.
 *
 * The limiter call gets a short deadline. When the store is slow or down, `open` lets the request through
 * without RateLimit headers (availability first; Postgres and NATS still bound the work) and `closed` refuses
 * it with a 503 (protection first). The library's own timeout is disabled: it always fails open, silently.
 *
 * Ratelimit instances are cached per isolate (per validated config): they hold no sockets. The ephemeral
 * block caches live at module scope, one per limit, so they survive a new config object (a new `env`):
 * an identifier this isolate saw refused is refused again from memory until its window resets, with no
 * Redis round trip. That is what keeps a flood of over-limit requests cheap. Trade-off: another isolate's
 * refusals are not known here until this isolate asks Redis once.
 */
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import type { EdgeConfig } from "../env";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix ms when the window frees a request. */
  resetAt: number;
  /** Background bookkeeping of the library; pass to waitUntil. */
  pending?: Promise<unknown>;
}

export type LimiterOutcome = { kind: "decided"; decision: RateLimitDecision } | { kind: "unavailable"; reason: string };

export interface RateLimiter {
  readonly limit: number;
  readonly windowSeconds: number;
  check(identifier: string): Promise<LimiterOutcome>;
}

const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

export function windowSeconds(window: string): number {
  const m = /^(\d+) ?(ms|s|m|h|d)$/.exec(window);
  if (!m) throw new Error(`bad window ${window}`);
  return Number(m[1]) * units[m[2]!]!;
}

// Per-isolate caches (module scope on purpose): identifier → blocked-until (ms), per limit prefix.
const blockCaches = new Map<string, Map<string, number>>();

function blockCacheFor(prefix: string, limit: number, window: string): Map<string, number> {
  // A changed limit or window starts a fresh cache: a block from the old limit must not outlive it.
  const name = `${prefix}:${limit}:${window}`;
  let cache = blockCaches.get(name);
  if (!cache) blockCaches.set(name, (cache = new Map()));
  return cache;
}

function upstashLimiter(redis: Redis, prefix: string, limit: number, window: EdgeConfig["IP_RATE_WINDOW"], timeoutMs: number): RateLimiter {
  const rl = new Ratelimit({
    redis,
    prefix,
    limiter: Ratelimit.slidingWindow(limit, window),
    timeout: 0,
    analytics: false,
    ephemeralCache: blockCacheFor(prefix, limit, window),
  });
  return {
    limit,
    windowSeconds: windowSeconds(window),
    async check(identifier) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<LimiterOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: "unavailable", reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      });
      const call = rl.limit(identifier).then(
        (r): LimiterOutcome => ({
          kind: "decided",
          decision: { allowed: r.success, limit: r.limit, remaining: Math.max(0, r.remaining), resetAt: r.reset, pending: r.pending },
        }),
        (err: unknown): LimiterOutcome => ({ kind: "unavailable", reason: err instanceof Error ? err.message : String(err) }),
      );
      try {
        return await Promise.race([call, deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export interface Limiters {
  ip: RateLimiter;
  key: RateLimiter;
}

// Per-isolate cache, keyed by the validated config object.
const cache = new WeakMap<EdgeConfig, Limiters>();

export function limitersFor(config: EdgeConfig): Limiters {
  const hit = cache.get(config);
  if (hit) return hit;
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    // One attempt: the deadline above is shorter than any retry backoff would be.
    retry: { retries: 0 },
    enableTelemetry: false,
  });
  const limiters = {
    ip: upstashLimiter(redis, "bs:rl:ip", config.IP_RATE_LIMIT, config.IP_RATE_WINDOW, config.RATE_LIMIT_TIMEOUT_MS),
    key: upstashLimiter(redis, "bs:rl:key", config.KEY_RATE_LIMIT, config.KEY_RATE_WINDOW, config.RATE_LIMIT_TIMEOUT_MS),
  };
  cache.set(config, limiters);
  return limiters;
}
