/**
 * Wait until a take succeeds. Refused → sleep until the emptiest bucket will hold enough (plus a little
 * jitter so waiting consumers do not all retry in the same millisecond), never longer than `maxSleepMs`, so
 * the caller's `onWait` heartbeat (JetStream `working()`) runs at least that often. Store unavailable →
 * back off up to ~2 s and retry for as long as it takes: sending pauses while the store is down and resumes
 * by itself (fail closed, DESIGN §6). Only the signal (shutdown) or `maxWaitMs` ends the wait early.
 */
import { backoffMs } from "../retry";
import { BucketStoreUnavailableError, type BucketSpec, type TokenBuckets } from "./interface";

export interface WaitOptions {
  signal?: AbortSignal;
  /** Called before every sleep with its length: the sender heartbeats and counts bucket waits here. */
  onWait?: (ms: number) => void;
  /**
   * Called before every sleep caused by an unavailable store. When absent, `onWait` is called instead so a
   * caller that passes only `onWait` still heartbeats during an outage.
   */
  onStoreUnavailable?: (err: BucketStoreUnavailableError, ms: number) => void;
  /**
   * Total time to wait for tokens before giving up with TokenWaitTimeoutError; unlimited when absent. An
   * unavailable store is waited out regardless (only the signal ends that wait).
   */
  maxWaitMs?: number;
  /** Longest single sleep (the heartbeat interval). Default 1000 ms. */
  maxSleepMs?: number;
}

/** `maxWaitMs` passed without getting tokens. Retryable: the caller can put the work back and try later. */
export class TokenWaitTimeoutError extends Error {
  readonly retryable = true;
  constructor(
    readonly waitedMs: number,
    readonly retryAfterMs: number,
  ) {
    super(`no tokens after waiting ${waitedMs} ms`);
    this.name = "TokenWaitTimeoutError";
  }
}

const STORE_BACKOFF = { baseMs: 100, capMs: 2000 };

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("token wait aborted", "AbortError");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export async function takeWhenAvailable(buckets: TokenBuckets, specs: BucketSpec[], opts: WaitOptions = {}): Promise<void> {
  const { signal, maxWaitMs } = opts;
  const maxSleepMs = opts.maxSleepMs ?? 1000;
  const started = Date.now();
  let storeFailures = 0;
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    let sleepMs: number;
    try {
      const r = await buckets.take(specs);
      if (r.ok) return;
      storeFailures = 0;
      const jitter = Math.random() * Math.min(50, r.retryAfterMs * 0.1);
      sleepMs = Math.min(maxSleepMs, Math.ceil(r.retryAfterMs + jitter));
      if (maxWaitMs !== undefined && Date.now() - started + sleepMs > maxWaitMs) {
        throw new TokenWaitTimeoutError(Date.now() - started, r.retryAfterMs);
      }
      opts.onWait?.(sleepMs);
    } catch (err) {
      if (!(err instanceof BucketStoreUnavailableError)) throw err;
      sleepMs = backoffMs(storeFailures++, STORE_BACKOFF);
      if (opts.onStoreUnavailable) opts.onStoreUnavailable(err, sleepMs);
      else opts.onWait?.(sleepMs);
    }
    await sleep(sleepMs, signal);
  }
}
