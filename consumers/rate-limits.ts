/**
 * Wires the sending token buckets (consumers/ratelimit/) into the sender's `TokenTaker`: limits from env,
 * buckets on the shared ioredis client, which buckets one provider call needs, and the blocking take. Fails
 * closed: while the bucket store is down `takeWhenAvailable` keeps waiting (heartbeating through `onWait`)
 * and sending resumes by itself. Takes are amortised and single-flight per process (ratelimit/token-reserve.ts).
 */
import type { Redis } from "ioredis";
import type { Region } from "../core/contract";
import type { TokenTaker } from "./app";
import { amortisedTakes, bucketsForSend, createRedisTokenBuckets, parseManagedLimits, takeWhenAvailable, type ManagedLimits, type TokenBuckets } from "./ratelimit";

/** Throws when the rate-limit env overrides are invalid; main.ts calls it at startup. */
export function createTokenTaker(redis: Redis, env: Record<string, string | undefined>, region: Region): TokenTaker {
  return tokenTakerFor(createRedisTokenBuckets(redis), parseManagedLimits(env), region);
}

/** The wiring over any bucket store (tests pass a scripted one). */
export function tokenTakerFor(buckets: TokenBuckets, limits: ManagedLimits, region: Region): TokenTaker {
  return {
    bucketsFor: (req) =>
      bucketsForSend(
        {
          provider: req.provider,
          mode: req.mode,
          region,
          tenantId: req.tenantId,
          sendConfigId: req.sendConfigId,
          byokRatePerSecond: req.rateLimitPerSecond,
          recipients: req.recipients,
        },
        limits,
      ),
    // One take in flight per bucket set, covering several calls when the buckets' capacity allows it.
    takeTokens: amortisedTakes((specs, opts) => takeWhenAvailable(buckets, specs, opts)),
  };
}
