/**
 * Amortised, single-flight token takes (issue 12). The sender asks for tokens once per provider call; asking
 * the bucket store each time cost one EVALSHA per send (~30 µs of consumer CPU and as much of Redis's), and
 * under a rate limit every waiting chunk polled the store on its own, so a process with 16 chunks waiting made
 * 16 polls per token. Here, per process and per set of buckets (same keys, same cost):
 *
 * - one take is in flight at a time; the other callers wait for it instead of polling too;
 * - a take takes the tokens of up to `maxCallsPerTake` calls at once, as many as every bucket's capacity
 *   holds (`callsPerTake`): a bucket that allows no burst (capacity = one call) still gets one call per take,
 *   so pacing is exactly as strict as the bucket says;
 * - the extra calls are handed to the next callers within `holdMs`; unused ones are dropped (never carried
 *   into a later second), so a process can only ever under-use what it took.
 *
 * Rate accuracy: every token still comes from the shared bucket, taken all-or-nothing by its atomic script,
 * and at most one capacity's worth is taken at once, so no window of a second can see more calls than the
 * bucket allows (rate × 1 s + capacity) — the same bound as one take per call.
 */
import type { BucketSpec } from "./interface";

export type TakeFn<O> = (specs: BucketSpec[], opts: O) => Promise<void>;

export interface ReserveOptions {
  /** Most calls one take covers. Default 8. */
  maxCallsPerTake?: number;
  /** How long taken tokens wait for a caller before they are dropped. Default 100 ms. */
  holdMs?: number;
}

/** How many calls one take may cover without exceeding any bucket's capacity (at least 1). */
export function callsPerTake(specs: BucketSpec[], max: number): number {
  let k = max;
  for (const s of specs) if (s.cost > 0) k = Math.min(k, Math.floor(s.capacity / s.cost));
  return Math.max(1, k);
}

interface Reserve {
  calls: number;
  expiresAt: number;
  inflight?: Promise<void>;
}

const MAX_RESERVES = 10_000;

export function amortisedTakes<O>(take: TakeFn<O>, o: ReserveOptions = {}): TakeFn<O> {
  const maxCalls = o.maxCallsPerTake ?? 8;
  const holdMs = o.holdMs ?? 100;
  const reserves = new Map<string, Reserve>();

  return async (specs, opts) => {
    let key = "";
    for (const s of specs) key += `${s.key}\u0000${s.cost}\u0000`;
    let r = reserves.get(key);
    if (!r) {
      if (reserves.size >= MAX_RESERVES) {
        for (const [k, v] of reserves) if (!v.inflight && (v.calls === 0 || v.expiresAt < Date.now())) reserves.delete(k);
      }
      r = { calls: 0, expiresAt: 0 };
      reserves.set(key, r);
    }
    for (;;) {
      if (r.calls > 0 && Date.now() < r.expiresAt) {
        r.calls--;
        return;
      }
      if (r.inflight) {
        // Someone's take is on its way: share it rather than poll the store too. If it fails, ask ourselves.
        await r.inflight.catch(() => undefined);
        continue;
      }
      const k = callsPerTake(specs, maxCalls);
      const reserve = r;
      reserve.calls = 0;
      reserve.inflight = take(k === 1 ? specs : specs.map((s) => ({ ...s, cost: s.cost * k })), opts)
        .then(() => {
          reserve.calls = k;
          reserve.expiresAt = Date.now() + holdMs;
        })
        .finally(() => {
          reserve.inflight = undefined;
        });
      await reserve.inflight;
    }
  };
}
