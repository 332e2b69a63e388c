/**
 * Token buckets for sending (DESIGN §6). One `take` takes from every bucket a provider call needs — managed
 * provider account (this region's share), BYOK send config, tenant — or from none, atomically, in one call
 * to the bucket store. Costs are counted the way the provider counts: a Resend batch of 100 costs 1 request
 * and 100 recipients.
 */
export interface BucketSpec {
  /** Redis key, e.g. `bucket:managed:ses:falkenstein:requests`. Every key is passed in KEYS. */
  key: string;
  /** Tokens added per second (the sustained rate). */
  ratePerSecond: number;
  /** Maximum tokens held (the burst). */
  capacity: number;
  /** Tokens this call costs from this bucket. */
  cost: number;
}

export type TakeResult =
  | { ok: true }
  /** Nothing was taken; `retryAfterMs` is when the emptiest bucket will hold enough. */
  | { ok: false; retryAfterMs: number };

export interface TokenBuckets {
  take(buckets: BucketSpec[]): Promise<TakeResult>;
}

/** The bucket store could not be reached. Sending pauses (fails closed) and retries; never a send failure. */
export class BucketStoreUnavailableError extends Error {
  readonly retryable = true;
  constructor(cause: unknown) {
    super(`token bucket store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "BucketStoreUnavailableError";
  }
}
