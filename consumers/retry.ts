/**
 * The consumers' one retry policy (CONVENTIONS 8): which errors mean "the infrastructure is down, wait" and
 * how long to wait between attempts. Used by the job runner (nak delays, in-process waits), the provider-call
 * loop (in-process provider retries), the result recorder and the token-bucket wait.
 *
 * Infrastructure errors (Postgres unreachable or shutting down, NATS disconnected or timing out, the bucket
 * store down) say nothing about the message being handled: they must never spend one of its deliveries
 * (DESIGN §5.6). Everything else is a per-message fault and counts toward `MaxDeliver`.
 */

/** Exponential backoff with half jitter: `attempt` 0 waits base/2..base, capped at `capMs`; never below `retryAfterMs`. */
export function backoffMs(attempt: number, opts: { baseMs?: number; capMs?: number; retryAfterMs?: number } = {}): number {
  const base = opts.baseMs ?? 1000;
  const exp = Math.min(opts.capMs ?? 60_000, base * 2 ** Math.max(0, attempt));
  return Math.round(Math.max(opts.retryAfterMs ?? 0, exp / 2 + Math.random() * (exp / 2)));
}

/** pg SQLSTATE classes that mean the server, not the statement: connection exception, insufficient resources, operator intervention (admin shutdown, crash shutdown, cannot connect now). */
const PG_INFRA_SQLSTATE = /^(08|53|57P)/;
const NODE_NET_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EAI_AGAIN", "ECONNABORTED"]);
/** Errors pg / pg-pool raise as plain Errors when the connection, not the statement, failed. */
const PG_CONNECTION_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|Query read timeout|Connection refused|connection is closed|terminating connection/i;
/** @nats-io error names for a connection that is down, closing or not answering (not a bad request). */
const NATS_INFRA_NAMES = new Set(["ConnectionError", "ClosedConnectionError", "DrainingConnectionError", "TimeoutError", "NoResponders", "JetStreamNotEnabled"]);

/** True when retrying the same operation later can succeed without anything about the message changing. */
export function isInfrastructureError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 5) return false;
  const e = err as { name?: string; code?: unknown; message?: string; cause?: unknown; errors?: unknown[]; infrastructure?: boolean };
  if (e.infrastructure === true || e.name === "BucketStoreUnavailableError") return true;
  if (typeof e.code === "string") {
    if (NODE_NET_CODES.has(e.code)) return true;
    // SQLSTATEs are five characters; do not mistake other libraries' codes for them.
    if (/^[0-9A-Z]{5}$/.test(e.code) && PG_INFRA_SQLSTATE.test(e.code)) return true;
  }
  if (e.name && NATS_INFRA_NAMES.has(e.name)) return true;
  if (typeof e.message === "string" && PG_CONNECTION_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isInfrastructureError(x, depth + 1))) return true;
  return isInfrastructureError(e.cause, depth + 1);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface InfraRetryOptions {
  /** What is being retried, for the log line. */
  what: string;
  log: { warn: (obj: object, msg: string) => void };
  /** Ends the waiting: the last error is rethrown (shutdown). */
  signal?: AbortSignal;
  /** Longest wait between attempts. Default 10 s. */
  capMs?: number;
  /** Also retry errors that are not infrastructure errors (a write whose outcome must land). */
  retryAll?: boolean;
}

/**
 * Runs `fn` until it succeeds, waiting (capped exponential backoff) after every infrastructure error. Any
 * other error is rethrown at once unless `retryAll`. The caller's heartbeat keeps the message alive meanwhile.
 */
export async function retryWhileInfraDown<T>(fn: () => Promise<T>, opts: InfraRetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(opts.retryAll || isInfrastructureError(err)) || opts.signal?.aborted) throw err;
      const delay = backoffMs(attempt, { baseMs: 200, capMs: opts.capMs ?? 10_000 });
      opts.log.warn({ err: (err as Error).message, attempt: attempt + 1, delay }, `${opts.what} failed; retrying`);
      await sleep(delay, opts.signal);
    }
  }
}
