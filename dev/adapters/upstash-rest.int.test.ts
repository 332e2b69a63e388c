/**
 * The local Upstash REST adapter against the real local Redis (DB 1), driven by the unmodified
 * `@upstash/redis` and `@upstash/ratelimit` clients.
 */
import { randomUUID } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstashRest, type RunningUpstashRest } from "./upstash-rest";
import { sha1Hex } from "./upstash-rest-scripts";

const REDIS_URL = "redis://127.0.0.1:6379/1";
const TOKEN = "test-upstash-token";

let server: RunningUpstashRest;
let direct: Redis;
const prefix = `test:upstash:${randomUUID()}`;
const client = () => new UpstashRedis({ url: server.url, token: TOKEN, enableTelemetry: false });

beforeAll(async () => {
  server = await startUpstashRest({ host: "127.0.0.1", port: 0, redisUrl: REDIS_URL, token: TOKEN });
  direct = new Redis(REDIS_URL);
});

afterAll(async () => {
  const keys = await direct.keys(`${prefix}*`);
  if (keys.length) await direct.del(...keys);
  await direct.quit();
  await server.close();
});

describe("Upstash REST adapter with @upstash/redis", () => {
  it("does set/get/incr with base64 responses, binary-safe and unicode-safe", async () => {
    const r = client();
    const k = `${prefix}:str`;
    expect(await r.set(k, "grüße 👋")).toBe("OK");
    expect(await r.get(k)).toBe("grüße 👋");
    expect(await direct.get(k)).toBe("grüße 👋"); // really stored in Redis DB 1
    expect(await r.incr(`${prefix}:n`)).toBe(1);
    expect(await r.incrby(`${prefix}:n`, 41)).toBe(42);
    expect(await r.get(`${prefix}:missing`)).toBeNull();
    // A stored "OK" inside an array reply must survive the client's array decoding too.
    await r.set(`${prefix}:ok`, "OK");
    expect(await r.mget(`${prefix}:ok`, k, `${prefix}:missing`)).toEqual(["OK", "grüße 👋", null]);
    // ioredis would turn HGETALL into an object; Upstash answers a flat array the client folds itself.
    await r.hset(`${prefix}:h`, { a: "1", b: "x" });
    expect(await r.hgetall(`${prefix}:h`)).toEqual({ a: 1, b: "x" });
  });

  it("runs a pipeline and a multi-exec, with per-command errors", async () => {
    const r = client();
    const k = `${prefix}:p`;
    const p = r.pipeline();
    p.set(k, "v1");
    p.get(k);
    p.incr(`${prefix}:pn`);
    expect(await p.exec()).toEqual(["OK", "v1", 1]);

    const m = r.multi();
    m.incr(`${prefix}:pn`);
    m.incr(`${prefix}:pn`);
    m.get(k);
    expect(await m.exec()).toEqual([2, 3, "v1"]);

    const bad = r.pipeline();
    bad.get(k);
    bad.incr(k); // "v1" is not an integer: a runtime error for this command only
    const res = await bad.exec({ keepErrors: true });
    expect(res[0]).toEqual({ error: undefined, result: "v1" });
    expect(res[1]!.error).toMatch(/not an integer/);
  });

  it("answers 401 Unauthorized for a wrong or missing token", async () => {
    const wrong = new UpstashRedis({ url: server.url, token: "wrong", enableTelemetry: false });
    await expect(wrong.get(`${prefix}:x`)).rejects.toThrow(/Unauthorized/);
    const res = await fetch(server.url, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
  });

  it("answers 400 with {error} for a command error, bad JSON and a refused command", async () => {
    const post = (body: string) =>
      fetch(server.url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body });
    const wrongArity = await post(JSON.stringify(["GET"]));
    expect(wrongArity.status).toBe(400);
    expect(((await wrongArity.json()) as { error: string }).error).toMatch(/wrong number of arguments/);
    expect((await post("{not json")).status).toBe(400);
    const select = await post(JSON.stringify(["SELECT", "0"]));
    expect(select.status).toBe(400);
    expect(((await select.json()) as { error: string }).error).toMatch(/not supported/);
  });

  it("answers SCRIPT LOAD and SCRIPT EXISTS with the sha of the original (shebang) script", async () => {
    const r = client();
    const script = "#!lua flags=allow-key-locking\nreturn redis.call('GET', KEYS[1])";
    const sha = await r.scriptLoad(script);
    expect(sha).toBe(sha1Hex(script));
    expect(await r.scriptExists(sha)).toEqual([1]);
    await r.set(`${prefix}:s`, "via-evalsha");
    expect(await r.evalsha(sha, [`${prefix}:s`], [])).toBe("via-evalsha");
    await expect(r.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });
});

describe("Upstash REST adapter with @upstash/ratelimit", () => {
  it("limits a sliding window of 5 per 10 s per identifier, through the allow-key-locking script", async () => {
    // Six requests straddling a window boundary would (correctly) be weighted across two windows; start
    // them early in a window so the test asserts the limit, not the weighting.
    const intoWindow = Date.now() % 10_000;
    if (intoWindow > 7_000) await new Promise((r) => setTimeout(r, 10_000 - intoWindow + 50));

    const before = server.commandCounts();
    const limiter = new Ratelimit({
      redis: client(),
      limiter: Ratelimit.slidingWindow(5, "10 s"),
      prefix: `${prefix}:rl`,
      ephemeralCache: false,
    });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await limiter.limit("ip-1"));
    expect(results.map((r) => r.success)).toEqual([true, true, true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    const refused = results[5]!;
    expect(refused.limit).toBe(5);
    expect(refused.reset).toBeGreaterThan(Date.now());
    expect(refused.reset).toBeLessThanOrEqual(Date.now() + 10_000);

    const other = await limiter.limit("ip-2");
    expect(other.success).toBe(true);
    expect(other.remaining).toBe(4);

    // First call: EVALSHA of the original sha → NOSCRIPT → EVAL (rewritten); every later call: EVALSHA.
    const after = server.commandCounts();
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    expect(delta("EVAL")).toBe(1);
    expect(delta("EVALSHA")).toBe(7);
  });
});
