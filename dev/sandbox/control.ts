/**
 * The sandbox's mutable behaviour, set by tests through `/_sandbox/config`: per-provider request rate limits
 * (token buckets, like the providers' own per-second limits), added latency, injected faults and extra
 * accepted credentials. Everything is in memory and per sandbox instance.
 */
import type { FaultSpec, Provider, SandboxConfigPatch, SandboxCredentials, SesKey } from "./types";

/** Token bucket with a one-second burst: `rate` requests per second, refilled continuously. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly capacity: number;

  constructor(readonly rate: number, now = performance.now()) {
    this.capacity = Math.max(1, rate);
    this.tokens = this.capacity;
    this.last = now;
  }

  take(now = performance.now()): { ok: boolean; remaining: number; retryAfterMs: number } {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, remaining: Math.floor(this.tokens), retryAfterMs: 0 };
    }
    return { ok: false, remaining: 0, retryAfterMs: Math.ceil(((1 - this.tokens) / this.rate) * 1000) };
  }
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

export class SandboxControl {
  latencyMs = 0;
  private buckets = new Map<Provider, TokenBucket>();
  private faults: ActiveFault[] = [];
  private extraCredentials: Required<SandboxCredentials> = { ses: [], resend: [], telnyx: [] };

  constructor(private readonly baseCredentials: Required<SandboxCredentials>) {}

  apply(patch: SandboxConfigPatch): void {
    if (patch.latencyMs !== undefined) this.latencyMs = patch.latencyMs;
    if (patch.rateLimits) {
      for (const [p, rate] of Object.entries(patch.rateLimits) as [Provider, number | null | undefined][]) {
        if (rate === undefined) continue;
        if (rate === null) this.buckets.delete(p);
        else this.buckets.set(p, new TokenBucket(rate));
      }
    }
    if (patch.faults) this.faults = patch.faults.map((f) => ({ ...f, remaining: f.times ?? Infinity }));
    if (patch.credentials) this.extraCredentials = { ...this.extraCredentials, ...patch.credentials };
  }

  reset(): void {
    this.latencyMs = 0;
    this.buckets.clear();
    this.faults = [];
    this.extraCredentials = { ses: [], resend: [], telnyx: [] };
  }

  /** Current settings, for `GET /_sandbox/config`. */
  snapshot() {
    return {
      latencyMs: this.latencyMs,
      rateLimits: Object.fromEntries([...this.buckets].map(([p, b]) => [p, b.rate])),
      faults: this.faults.map(({ remaining, ...f }) => ({ ...f, remaining: Number.isFinite(remaining) ? remaining : null })),
    };
  }

  /** One request's worth of the provider's rate limit; `limit` undefined = no limit configured. */
  takeToken(p: Provider): { ok: boolean; limit?: number; remaining: number; retryAfterMs: number } {
    const bucket = this.buckets.get(p);
    if (!bucket) return { ok: true, remaining: Infinity, retryAfterMs: 0 };
    return { ...bucket.take(), limit: bucket.rate };
  }

  /**
   * The fault that fires for this call, if any. A call naming several addresses (Resend batch) fails as a
   * whole when any of them matches, as a real strict-validation batch would.
   */
  pickFault(p: Provider, addresses: string[]): FaultSpec | undefined {
    for (const f of this.faults) {
      if (f.provider !== undefined && f.provider !== p) continue;
      if (f.to !== undefined && !addresses.includes(f.to)) continue;
      if (f.remaining <= 0) continue;
      if (f.probability < 1 && Math.random() >= f.probability) continue;
      f.remaining -= 1;
      return f;
    }
    return undefined;
  }

  sesKey(accessKeyId: string): SesKey | undefined {
    return (
      this.extraCredentials.ses.find((k) => k.accessKeyId === accessKeyId) ??
      this.baseCredentials.ses.find((k) => k.accessKeyId === accessKeyId)
    );
  }

  acceptsApiKey(p: "resend" | "telnyx", key: string): boolean {
    return this.baseCredentials[p].includes(key) || this.extraCredentials[p].includes(key);
  }
}
