/**
 * Per-host circuit breaker for customer webhook endpoints: after `threshold` consecutive retryable failures
 * a host is skipped for `cooldownMs` (its calls come back as `retry` without a request), then one trial call
 * is let through (half-open). Keeps one dead customer endpoint from holding every sender slot on timeouts.
 * Process-local by design: each consumer learns on its own; the queue's backoff does the rest.
 */
export interface CircuitBreakerOptions {
  threshold?: number;
  cooldownMs?: number;
  now?: () => number;
}

interface HostState {
  failures: number;
  openUntil: number;
  trialInFlight: boolean;
}

export class CircuitBreaker {
  private readonly hosts = new Map<string, HostState>();
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.threshold = opts.threshold ?? 5;
    this.cooldownMs = opts.cooldownMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  /** Whether a call to `host` may go out now; `false` means answer `retry` without calling. */
  allow(host: string): boolean {
    const s = this.hosts.get(host);
    if (!s || s.failures < this.threshold) return true;
    if (this.now() < s.openUntil || s.trialInFlight) return false;
    s.trialInFlight = true;
    return true;
  }

  success(host: string): void {
    this.hosts.delete(host);
  }

  failure(host: string): void {
    const s = this.hosts.get(host) ?? { failures: 0, openUntil: 0, trialInFlight: false };
    s.failures += 1;
    s.trialInFlight = false;
    if (s.failures >= this.threshold) s.openUntil = this.now() + this.cooldownMs;
    this.hosts.set(host, s);
  }

  retryAfterMs(host: string): number {
    const s = this.hosts.get(host);
    return s ? Math.max(0, s.openUntil - this.now()) : 0;
  }
}
