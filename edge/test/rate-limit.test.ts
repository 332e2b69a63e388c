import { describe, expect, it } from "vitest";
import { call, newTenant, randomIp, testEnv } from "./harness";

/** A port in this project's range that nothing listens on: the limiter store is "down". */
const DEAD_UPSTASH = "http://127.0.0.1:20299";

describe("per-IP and per-key rate limits", () => {
  it(`refuses the request after IP_RATE_LIMIT from one CF-Connecting-IP; another IP still passes`, async () => {
    const limit = Number(testEnv.IP_RATE_LIMIT);
    const t = await newTenant();
    const ip = randomIp();
    for (let i = 0; i < limit; i++) {
      const ok = await call("GET", "/v1/batches", { apiKey: t.apiKey, ip });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("ratelimit-limit")).toBe(String(limit));
      expect(ok.headers.get("ratelimit-remaining")).toBe(String(limit - i - 1));
      expect(Number(ok.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    }
    const refused = await call("GET", "/v1/batches", { apiKey: t.apiKey, ip });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("ratelimit-limit")).toBe(String(limit));
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("ratelimit-reset")).not.toBeNull();

    // A forged X-Forwarded-For does not move the caller into another bucket.
    const forged = await call("GET", "/v1/batches", { apiKey: t.apiKey, ip, headers: { "x-forwarded-for": randomIp() } });
    expect(forged.status).toBe(429);

    const other = await call("GET", "/v1/batches", { apiKey: t.apiKey, ip: randomIp() });
    expect(other.status).toBe(200);
  });

  it("limits each API key across IPs", async () => {
    const t = await newTenant();
    const env = { KEY_RATE_LIMIT: "2" };
    expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, envOverrides: env })).status).toBe(200);
    expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, envOverrides: env })).status).toBe(200);
    const refused = await call("GET", "/v1/batches", { apiKey: t.apiKey, envOverrides: env });
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain("API key");
    expect(refused.headers.get("ratelimit-limit")).toBe("2");
  });

  it("counts IPv6 callers per /64 (an IPv4-mapped address as its IPv4 address)", async () => {
    const limit = Number(testEnv.IP_RATE_LIMIT);
    const t = await newTenant();
    const hex = () => crypto.getRandomValues(new Uint16Array(1))[0]!.toString(16);
    const net = `2001:db8:${hex()}:${hex()}`;
    for (let i = 0; i < limit; i++) {
      // Every request from another address of the same /64, spelled in different ways.
      const ip = i % 2 ? `${net}:${hex()}:${hex()}:${hex()}:${hex()}` : `${net.toUpperCase()}::${hex()}`;
      expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, ip })).status, ip).toBe(200);
    }
    expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, ip: `${net}::1` })).status).toBe(429);
    const neighbour = `2001:db8:${hex()}:${hex()}::1`;
    expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, ip: neighbour })).status).toBe(200);

    const v4 = randomIp();
    for (let i = 0; i < limit; i++) expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, ip: i % 2 ? v4 : `::ffff:${v4}` })).status).toBe(200);
    expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, ip: v4 })).status).toBe(429);
  });

  it("a blocked IP is refused from the in-isolate block cache, without asking Redis", async () => {
    const ip = randomIp();
    const limits = { IP_RATE_LIMIT: "2" };
    for (let i = 0; i < 2; i++) expect((await call("GET", "/v1/batches", { ip, envOverrides: limits })).status).toBe(401);
    expect((await call("GET", "/v1/batches", { ip, envOverrides: limits })).status).toBe(429);
    // The store is gone and the policy is closed: only an answer from memory can still be a 429.
    const deadStore = { ...limits, UPSTASH_REDIS_REST_URL: DEAD_UPSTASH, RATE_LIMIT_FAILURE_POLICY: "closed", RATE_LIMIT_TIMEOUT_MS: "500" };
    const fromCache = await call("GET", "/v1/batches", { ip, envOverrides: deadStore });
    expect(fromCache.status).toBe(429);
    expect(fromCache.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(fromCache.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another IP must ask the store, which is down: 503.
    expect((await call("GET", "/v1/batches", { ip: randomIp(), envOverrides: deadStore })).status).toBe(503);
  });

  it("an over-limit key is refused before any database work", async () => {
    const t = await newTenant();
    const env = { KEY_RATE_LIMIT: "1" };
    expect((await call("GET", "/v1/batches", { apiKey: t.apiKey, envOverrides: env })).status).toBe(200);
    // Postgres unreachable for this request: a 429 means neither auth nor the route touched it.
    const refused = await call("GET", "/v1/batches", { apiKey: t.apiKey, envOverrides: { ...env, NEON_WS_PROXY: "127.0.0.1:20297/v2" } });
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain("API key");
  });

  it("failure policy open: a dead limiter store lets the request through (without RateLimit headers)", async () => {
    const t = await newTenant();
    const res = await call("GET", "/v1/batches", {
      apiKey: t.apiKey,
      envOverrides: { UPSTASH_REDIS_REST_URL: DEAD_UPSTASH, RATE_LIMIT_FAILURE_POLICY: "open", RATE_LIMIT_TIMEOUT_MS: "500" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-limit")).toBeNull();
  });

  it("failure policy closed: a dead limiter store answers 503 problem", async () => {
    const t = await newTenant();
    const res = await call("GET", "/v1/batches", {
      apiKey: t.apiKey,
      envOverrides: { UPSTASH_REDIS_REST_URL: DEAD_UPSTASH, RATE_LIMIT_FAILURE_POLICY: "closed", RATE_LIMIT_TIMEOUT_MS: "500" },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.body.code).toBe("unavailable");
  });
});
