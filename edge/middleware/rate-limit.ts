/**
 * Per-IP and per-API-key sliding windows (DESIGN §6). The IP is ONLY `CF-Connecting-IP`, which Cloudflare
 * sets and clients cannot forge (the old system keyed on the ingress pod's address and everyone shared one
 * bucket), with IPv6 counted per /64 (http/client-ip.ts). Every limited response carries IETF `RateLimit-*`
 * headers; a refusal is a 429 with `Retry-After`.
 *
 * A refusal must be cheap: both limits run BEFORE any database work (the key limit counts the sha-256 of the
 * presented key, not the looked-up key id), and an identifier this isolate already saw over its limit is
 * refused from the limiter's in-isolate block cache without a Redis round trip (adapters/rate-limiter.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../../core/domain/problem";
import type { AppEnv } from "../hono-env";
import { limitersFor, type RateLimiter, type RateLimitDecision } from "../adapters/rate-limiter";
import { sha256Hex } from "../../core/domain/api-keys";
import { rateLimitIdentifier } from "../http/client-ip";
import { presentedApiKey } from "./auth";

function setHeaders(c: Context<AppEnv>, limiter: RateLimiter, d: RateLimitDecision): void {
  const resetSeconds = Math.max(0, Math.ceil((d.resetAt - Date.now()) / 1000));
  c.header("RateLimit-Limit", String(d.limit));
  c.header("RateLimit-Remaining", String(d.remaining));
  c.header("RateLimit-Reset", String(resetSeconds));
  c.header("RateLimit-Policy", `${limiter.limit};w=${limiter.windowSeconds}`);
  if (!d.allowed) c.header("Retry-After", String(Math.max(1, resetSeconds)));
}

async function enforce(c: Context<AppEnv>, limiter: RateLimiter, identifier: string, what: string): Promise<void> {
  const outcome = await limiter.check(identifier);
  if (outcome.kind === "unavailable") {
    const policy = c.get("config").RATE_LIMIT_FAILURE_POLICY;
    console.warn(`rate limiter unavailable (${what}), failing ${policy}: ${outcome.reason}`);
    // The explicit failure policy: open = serve without a limit, closed = refuse until the store is back.
    if (policy === "closed") {
      throw new AppError("unavailable", "Rate limiting is temporarily unavailable; retry shortly", {
        headers: { "Retry-After": "1" },
      });
    }
    return;
  }
  const d = outcome.decision;
  if (d.pending) c.executionCtx.waitUntil(d.pending.catch(() => {}));
  // With two limits in force, the headers describe the one closest to exhaustion (or the refusing one).
  const shown = c.get("rateLimitRemaining");
  if (shown === undefined || d.remaining < shown || !d.allowed) {
    c.set("rateLimitRemaining", d.remaining);
    setHeaders(c, limiter, d);
  }
  if (!d.allowed) throw new AppError("rate_limited", `Too many requests for this ${what}; retry after the window resets`);
}

export const ipRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  await enforce(c, limitersFor(c.get("config")).ip, rateLimitIdentifier(c.req.header("cf-connecting-ip")), "IP address");
  await next();
};

/**
 * The key's own window, across all the IPs using the key; before auth, so an over-limit key costs no query.
 * Counted per presented key (its hash): a made-up key only fills its own bucket, and the IP limit still
 * bounds a caller cycling through made-up keys. No well-formed key: auth answers 401 next.
 */
export const keyRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = presentedApiKey(c.req.header("authorization"));
  if (key) await enforce(c, limitersFor(c.get("config")).key, await sha256Hex(key), "API key");
  await next();
};
