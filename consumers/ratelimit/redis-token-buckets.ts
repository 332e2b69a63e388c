/**
 * TokenBuckets on Redis / Dragonfly: one EVALSHA per take (ioredis `defineCommand` loads the script and falls
 * back to EVAL on NOSCRIPT, e.g. after a Dragonfly restart).
 *
 * Fail closed: an unreachable store, a timeout or a transient server state (LOADING, BUSY, READONLY…)
 * throws BucketStoreUnavailableError, and the sender pauses instead of sending unmetered. A timed-out call
 * may still have taken its tokens; the retry then takes again, which wastes capacity but never exceeds a
 * provider's limit.
 */
import type { Redis } from "ioredis";
import { BucketStoreUnavailableError, type BucketSpec, type TakeResult, type TokenBuckets } from "./interface";
import { TAKE_TOKENS_LUA } from "./take-tokens-script";

const COMMAND = "batchsenderTakeTokens";
const DEFAULT_TIMEOUT_MS = 1000;
/** Server replies that mean "not now" rather than "this call is wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)\b/;

type TakeCommand = (numKeys: number, ...args: (string | number)[]) => Promise<[number, number]>;

/** A spec that no amount of waiting can satisfy, or that is malformed. A programming or config error. */
export class InvalidBucketSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidBucketSpecError";
  }
}

export function validateSpecs(specs: BucketSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (!s.key) throw new InvalidBucketSpecError("bucket key must not be empty");
    // The script reads every key before writing any: the same key twice would be charged only once.
    if (seen.has(s.key)) throw new InvalidBucketSpecError(`bucket ${s.key} appears twice in one take`);
    seen.add(s.key);
    if (!(Number.isFinite(s.ratePerSecond) && s.ratePerSecond > 0)) throw new InvalidBucketSpecError(`bucket ${s.key}: ratePerSecond must be > 0`);
    if (!(Number.isFinite(s.capacity) && s.capacity > 0)) throw new InvalidBucketSpecError(`bucket ${s.key}: capacity must be > 0`);
    if (!(Number.isFinite(s.cost) && s.cost >= 0)) throw new InvalidBucketSpecError(`bucket ${s.key}: cost must be >= 0`);
    if (s.cost > s.capacity) {
      throw new InvalidBucketSpecError(`bucket ${s.key}: cost ${s.cost} exceeds capacity ${s.capacity}, so it could never be taken`);
    }
  }
}

function isTransient(err: unknown): boolean {
  // ioredis ReplyError is a Redis answer; anything else (ECONNREFUSED, closed stream, offline queue off,
  // max retries) means the store was not reached.
  if (!(err instanceof Error) || err.name !== "ReplyError") return true;
  return TRANSIENT_REPLY.test(err.message);
}

const defined = new WeakSet<Redis>();

export function createRedisTokenBuckets(redis: Redis, opts: { timeoutMs?: number } = {}): TokenBuckets {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!defined.has(redis)) {
    redis.defineCommand(COMMAND, { lua: TAKE_TOKENS_LUA });
    defined.add(redis);
  }
  const run = (redis as unknown as Record<typeof COMMAND, TakeCommand>)[COMMAND].bind(redis);

  return {
    async take(specs: BucketSpec[]): Promise<TakeResult> {
      validateSpecs(specs);
      if (specs.length === 0) return { ok: true };
      const argv = specs.flatMap((s) => [s.ratePerSecond, s.capacity, s.cost]);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      const call = run(specs.length, ...specs.map((s) => s.key), ...argv);
      call.catch(() => {}); // after a timeout the late rejection has nobody left to handle it
      try {
        const [taken, retryAfterMs] = await Promise.race([call, timeout]);
        return taken === 1 ? { ok: true } : { ok: false, retryAfterMs: Math.max(1, retryAfterMs) };
      } catch (err) {
        if (isTransient(err)) throw new BucketStoreUnavailableError(err);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
