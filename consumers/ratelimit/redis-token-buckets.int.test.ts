/**
 * The token-bucket script on the real local Redis (DB 1). Refill is asserted on the token counts and server
 * timestamps the script stores, not on wall-clock timing.
 */
import { randomUUID } from "node:crypto";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BucketStoreUnavailableError, type BucketSpec } from "./interface";
import { createRedisTokenBuckets, InvalidBucketSpecError } from "./redis-token-buckets";
import { takeWhenAvailable } from "./wait-for-tokens";

const REDIS_URL = "redis://127.0.0.1:6379/1";
const prefix = `test:buckets:${randomUUID()}`;
let redis: Redis;

const key = (name: string) => `${prefix}:${name}`;
const spec = (name: string, ratePerSecond: number, capacity: number, cost: number): BucketSpec => ({ key: key(name), ratePerSecond, capacity, cost });
async function state(name: string) {
  const [tokens, ts] = await redis.hmget(key(name), "tokens", "ts");
  return { tokens: tokens === null ? null : Number(tokens), ts: ts === null ? null : Number(ts) };
}

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe("createRedisTokenBuckets", () => {
  it("starts a bucket full and stores what is left, with an expiry so idle buckets disappear", async () => {
    const b = createRedisTokenBuckets(redis);
    expect(await b.take([spec("fresh", 2, 10, 3)])).toEqual({ ok: true });
    expect((await state("fresh")).tokens).toBeCloseTo(7, 2);
    const pttl = await redis.pttl(key("fresh"));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(10 / 2 * 1000 + 1000); // time to refill to capacity + 1 s
  });

  it("is all-or-nothing: with one bucket short, neither bucket changes", async () => {
    const b = createRedisTokenBuckets(redis);
    expect(await b.take([spec("aon-a", 0.001, 5, 1), spec("aon-b", 0.001, 5, 5)])).toEqual({ ok: true });
    const a0 = await state("aon-a");
    const b0 = await state("aon-b");
    expect(a0.tokens).toBeCloseTo(4, 2);
    expect(b0.tokens).toBeCloseTo(0, 2);

    const r = await b.take([spec("aon-a", 0.001, 5, 1), spec("aon-b", 0.001, 5, 1)]);
    expect(r.ok).toBe(false);
    expect(await state("aon-a")).toEqual(a0);
    expect(await state("aon-b")).toEqual(b0);
  });

  it("refills continuously at ratePerSecond from the server's clock, up to capacity", async () => {
    const b = createRedisTokenBuckets(redis);
    const rate = 5;
    expect(await b.take([spec("refill", rate, 10, 10)])).toEqual({ ok: true });
    const s1 = await state("refill");
    expect(s1.tokens).toBeCloseTo(0, 6);
    await new Promise((r) => setTimeout(r, 250));
    expect(await b.take([spec("refill", rate, 10, 1)])).toEqual({ ok: true });
    const s2 = await state("refill");
    const refilled = ((s2.ts! - s1.ts!) / 1e6) * rate;
    expect(refilled).toBeGreaterThan(1); // ≥ 250 ms passed on the server
    expect(s2.tokens!).toBeCloseTo(s1.tokens! + refilled - 1, 6);

    // An hour idle refills to capacity, not beyond.
    await redis.hset(key("refill"), "tokens", "0", "ts", String(s2.ts! - 3600e6));
    expect(await b.take([spec("refill", rate, 10, 1)])).toEqual({ ok: true });
    expect((await state("refill")).tokens).toBeCloseTo(9, 6);
  });

  it("never mints tokens when the server clock is behind the stored timestamp", async () => {
    const b = createRedisTokenBuckets(redis);
    const future = (await redis.time()).map(Number);
    const futureMicros = future[0]! * 1e6 + future[1]! + 60e6;
    await redis.hset(key("skew"), "tokens", "2", "ts", String(futureMicros));
    expect(await b.take([spec("skew", 1000, 10, 2)])).toEqual({ ok: true });
    expect(await state("skew")).toEqual({ tokens: 0, ts: futureMicros });
  });

  it("lets exactly capacity callers through when 20 race for a bucket of 10", async () => {
    const b = createRedisTokenBuckets(redis);
    const results = await Promise.all(Array.from({ length: 20 }, () => b.take([spec("race", 0.001, 10, 1)])));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect((await state("race")).tokens).toBeCloseTo(0, 2);
  });

  it("answers retryAfterMs = time until the emptiest bucket holds the cost", async () => {
    const b = createRedisTokenBuckets(redis);
    expect(await b.take([spec("ra-fast", 10, 10, 10), spec("ra-slow", 1, 2, 2)])).toEqual({ ok: true });
    const r = await b.take([spec("ra-fast", 10, 10, 1), spec("ra-slow", 1, 2, 1)]);
    // ra-fast needs ~100 ms, ra-slow ~1000 ms: the slow one decides.
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.retryAfterMs).toBeGreaterThan(500); // well above ra-fast's ~100 ms even on a loaded machine
    expect(r.retryAfterMs).toBeLessThanOrEqual(1000);
  });

  it("takes nothing for an empty spec list and rejects impossible or malformed specs up front", async () => {
    const b = createRedisTokenBuckets(redis);
    expect(await b.take([])).toEqual({ ok: true });
    await expect(b.take([spec("big", 1, 5, 6)])).rejects.toThrow(InvalidBucketSpecError);
    await expect(b.take([spec("big", 1, 5, 6)])).rejects.toThrow(/exceeds capacity/);
    await expect(b.take([spec("zero", 0, 5, 1)])).rejects.toThrow(/ratePerSecond/);
    await expect(b.take([spec("dup", 1, 5, 1), spec("dup", 1, 5, 1)])).rejects.toThrow(/twice/);
    expect(await redis.exists(key("big"), key("zero"), key("dup"))).toBe(0);
  });

  it("throws BucketStoreUnavailableError when Redis is unreachable", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const dead = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    dead.on("error", () => {});
    try {
      await dead.connect().catch(() => {});
      await expect(createRedisTokenBuckets(dead).take([spec("x", 1, 1, 1)])).rejects.toBeInstanceOf(BucketStoreUnavailableError);
    } finally {
      dead.disconnect();
    }
  });

  it("throws BucketStoreUnavailableError when the store does not answer within timeoutMs", async () => {
    // Accepts connections and never answers: a hung store, not a refused one.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as AddressInfo).port;
    const hung = new Redis({ host: "127.0.0.1", port, enableReadyCheck: false, maxRetriesPerRequest: 0 });
    hung.on("error", () => {});
    try {
      const err = await createRedisTokenBuckets(hung, { timeoutMs: 100 }).take([spec("x", 1, 1, 1)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BucketStoreUnavailableError);
      expect((err as Error).message).toMatch(/100 ms/);
    } finally {
      hung.disconnect();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("lets takeWhenAvailable wait for real refill and then take", async () => {
    const b = createRedisTokenBuckets(redis);
    expect(await b.take([spec("wait", 20, 1, 1)])).toEqual({ ok: true });
    const waits: number[] = [];
    await takeWhenAvailable(b, [spec("wait", 20, 1, 1)], { onWait: (ms) => waits.push(ms) });
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]).toBeLessThanOrEqual(60); // 1 token at 20/s is 50 ms away, plus ≤ 10% jitter
    expect((await state("wait")).tokens).toBeCloseTo(0, 1);
  });
});
