import { afterEach, describe, expect, it, vi } from "vitest";
import type { BucketSpec } from "./interface";
import { amortisedTakes, callsPerTake } from "./token-reserve";

const spec = (capacity: number, cost = 1, key = "bucket:a"): BucketSpec => ({ key, ratePerSecond: 100, capacity, cost });

/** A take that records what it was asked for and resolves when the test says so. */
function scriptedTake() {
  const asked: BucketSpec[][] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const take = (specs: BucketSpec[]) =>
    new Promise<void>((resolve, reject) => {
      asked.push(specs);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      pending.push({
        resolve: () => {
          inFlight--;
          resolve();
        },
        reject: (e) => {
          inFlight--;
          reject(e);
        },
      });
    });
  return { take, asked, pending, maxInFlight: () => maxInFlight };
}

const flush = () => new Promise((r) => setImmediate(r));

afterEach(() => vi.restoreAllMocks());

describe("callsPerTake", () => {
  it("never exceeds any bucket's capacity, and is at least one call", () => {
    expect(callsPerTake([spec(1)], 8)).toBe(1);
    expect(callsPerTake([spec(5), spec(100_000, 1, "bucket:t")], 8)).toBe(5);
    expect(callsPerTake([spec(1_000)], 8)).toBe(8);
    expect(callsPerTake([spec(150, 100)], 8)).toBe(1);
    expect(callsPerTake([spec(5, 0)], 8)).toBe(8);
  });
});

describe("amortisedTakes", () => {
  it("shares one take of several calls' tokens between concurrent callers, one take in flight at a time", async () => {
    const s = scriptedTake();
    const takeOne = amortisedTakes(s.take, { maxCallsPerTake: 8 });
    let done = 0;
    const callers = Array.from({ length: 10 }, () => takeOne([spec(5)], {}).then(() => done++));
    await flush();
    expect(s.asked).toHaveLength(1);
    expect(s.asked[0]![0]!.cost).toBe(5); // five calls' worth, within the capacity of 5
    s.pending[0]!.resolve();
    await flush();
    expect(done).toBe(5);
    expect(s.asked).toHaveLength(2);
    s.pending[1]!.resolve();
    await Promise.all(callers);
    expect(done).toBe(10);
    expect(s.maxInFlight()).toBe(1);
  });

  it("takes one call at a time from a bucket without burst capacity", async () => {
    const s = scriptedTake();
    const takeOne = amortisedTakes(s.take);
    const callers = [takeOne([spec(1)], {}), takeOne([spec(1)], {})];
    await flush();
    s.pending[0]!.resolve();
    await flush();
    s.pending[1]!.resolve();
    await Promise.all(callers);
    expect(s.asked.map((a) => a[0]!.cost)).toEqual([1, 1]);
  });

  it("keeps bucket sets apart", async () => {
    const s = scriptedTake();
    const takeOne = amortisedTakes(s.take);
    const a = takeOne([spec(5, 1, "bucket:a")], {});
    const b = takeOne([spec(5, 1, "bucket:b")], {});
    await flush();
    expect(s.asked.map((x) => x[0]!.key)).toEqual(["bucket:a", "bucket:b"]);
    s.pending.forEach((p) => p.resolve());
    await Promise.all([a, b]);
  });

  it("drops tokens nobody used within holdMs instead of spending them later", async () => {
    const s = scriptedTake();
    let now = 1_000;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    const takeOne = amortisedTakes(s.take, { holdMs: 100 });
    const first = takeOne([spec(5)], {});
    await flush();
    s.pending[0]!.resolve();
    await first; // 4 calls left in reserve until t = 1100
    await takeOne([spec(5)], {});
    expect(s.asked).toHaveLength(1);
    now = 1_101;
    const late = takeOne([spec(5)], {});
    await flush();
    expect(s.asked).toHaveLength(2);
    s.pending[1]!.resolve();
    await late;
  });

  it("a failed take fails its caller; a waiter then asks for itself", async () => {
    const s = scriptedTake();
    const takeOne = amortisedTakes(s.take);
    const first = takeOne([spec(5)], {});
    const second = takeOne([spec(5)], {});
    await flush();
    s.pending[0]!.reject(new Error("aborted"));
    await expect(first).rejects.toThrow("aborted");
    await flush();
    expect(s.asked).toHaveLength(2);
    s.pending[1]!.resolve();
    await second;
  });
});
