import { describe, expect, it } from "vitest";
import { BucketStoreUnavailableError, type BucketSpec, type TakeResult, type TokenBuckets } from "./interface";
import { takeWhenAvailable, TokenWaitTimeoutError } from "./wait-for-tokens";

const specs: BucketSpec[] = [{ key: "k", ratePerSecond: 1, capacity: 1, cost: 1 }];

/** Plays back scripted results; "down" throws BucketStoreUnavailableError. */
function scripted(results: (TakeResult | "down")[]): TokenBuckets & { calls: number } {
  const b = {
    calls: 0,
    async take() {
      const r = results[Math.min(b.calls++, results.length - 1)]!;
      if (r === "down") throw new BucketStoreUnavailableError(new Error("connect ECONNREFUSED"));
      return r;
    },
  };
  return b;
}

describe("takeWhenAvailable", () => {
  it("returns at once when the take succeeds", async () => {
    const b = scripted([{ ok: true }]);
    await takeWhenAvailable(b, specs);
    expect(b.calls).toBe(1);
  });

  it("sleeps about retryAfterMs (with a little jitter) and calls onWait before each sleep", async () => {
    const b = scripted([{ ok: false, retryAfterMs: 20 }, { ok: false, retryAfterMs: 10 }, { ok: true }]);
    const waits: number[] = [];
    await takeWhenAvailable(b, specs, { onWait: (ms) => waits.push(ms) });
    expect(b.calls).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(20);
    expect(waits[0]).toBeLessThanOrEqual(22);
    expect(waits[1]).toBeGreaterThanOrEqual(10);
    expect(waits[1]).toBeLessThanOrEqual(11);
  });

  it("caps one sleep at maxSleepMs so the heartbeat keeps running during long waits", async () => {
    const b = scripted([{ ok: false, retryAfterMs: 60_000 }, { ok: true }]);
    const waits: number[] = [];
    await takeWhenAvailable(b, specs, { onWait: (ms) => waits.push(ms), maxSleepMs: 5 });
    expect(waits).toEqual([5]);
  });

  it("resumes by itself after the store comes back, reporting each outage wait", async () => {
    const b = scripted(["down", "down", "down", { ok: true }]);
    const outages: number[] = [];
    const waits: number[] = [];
    await takeWhenAvailable(b, specs, { onStoreUnavailable: (err, ms) => (expect(err).toBeInstanceOf(BucketStoreUnavailableError), outages.push(ms)), onWait: (ms) => waits.push(ms) });
    expect(b.calls).toBe(4);
    expect(outages).toHaveLength(3);
    expect(waits).toEqual([]); // outage waits go to onStoreUnavailable when given
    // Exponential backoff with jitter: 100, 200, 400 ms bands.
    expect(outages[0]).toBeGreaterThanOrEqual(50);
    expect(outages[0]).toBeLessThanOrEqual(100);
    expect(outages[2]).toBeGreaterThanOrEqual(200);
    expect(outages[2]).toBeLessThanOrEqual(400);
  });

  it("heartbeats through onWait during an outage when no onStoreUnavailable is given", async () => {
    const b = scripted(["down", { ok: true }]);
    const waits: number[] = [];
    await takeWhenAvailable(b, specs, { onWait: (ms) => waits.push(ms) });
    expect(waits).toHaveLength(1);
  });

  it("stops waiting when the signal aborts, during a sleep or before the first take", async () => {
    const b = scripted(["down"]);
    const ac = new AbortController();
    const p = takeWhenAvailable(b, specs, { signal: ac.signal, onWait: () => setTimeout(() => ac.abort(new Error("shutdown")), 5) });
    await expect(p).rejects.toThrow("shutdown");
    const calls = b.calls;
    await expect(takeWhenAvailable(b, specs, { signal: ac.signal })).rejects.toThrow("shutdown");
    expect(b.calls).toBe(calls);
  });

  it("gives up with TokenWaitTimeoutError after maxWaitMs of refusals", async () => {
    const b = scripted([{ ok: false, retryAfterMs: 1000 }]);
    const err = await takeWhenAvailable(b, specs, { maxWaitMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenWaitTimeoutError);
    expect((err as TokenWaitTimeoutError).retryAfterMs).toBe(1000);
  });

  it("does not swallow errors other than an unavailable store", async () => {
    const b: TokenBuckets = { take: () => Promise.reject(new Error("cost 5 exceeds capacity 1")) };
    await expect(takeWhenAvailable(b, specs)).rejects.toThrow(/exceeds capacity/);
  });
});
