/**
 * Group commit of provider-call results: one per process, shared by every chunk the sender works on. Each
 * `record()` queues `{ batchId, token, results }`; a flush writes everything queued in ONE statement
 * (`recordResultsGrouped`: per-row claim-token guard, counters of every touched batch moved in the same
 * statement), so N concurrent chunks cost one Postgres round trip instead of N.
 *
 * Invariants the sender relies on (docs/delivery.md):
 * - a caller's promise resolves only after the statement that holds its rows has committed, so "record,
 *   then ack" and the SES duplicate bound (only calls in flight are unrecorded) are unchanged;
 * - a result handed to `record()` is a provider outcome that is already known: it is never given up. If the
 *   statement fails it is retried (capped backoff) until it lands or the process dies (`close()`); the
 *   write is idempotent under the claim token, so a statement that committed but whose answer was lost
 *   is harmless to repeat. Releasing such rows back to `queued` would re-send them (DESIGN §5.7). A
 *   statement that fails for a reason other than the infrastructure is split into one statement per
 *   caller, so one bad entry never holds the results of other chunks.
 *
 * Scheduling: at most one flush in flight; while it runs the next one collects. A flush starts on the next
 * event-loop turn after the first entry arrives (or after `maxDelayMs`, if set), at once when `maxResults`
 * are queued, and right after the previous flush when entries are waiting. Under load this batches by
 * itself (the in-flight statement is the collection window); when idle it adds no timer latency.
 */
import { backoffMs, isInfrastructureError, sleep } from "../retry";
import { recordResultsGrouped, type BatchCounters, type Db, type ResultEntry } from "./recipient-store";

export interface ResultRecorderOptions {
  /** Flush as soon as this many results are queued. Default 250. */
  maxResults?: number;
  /** 0 (default): flush on the next event-loop turn (setImmediate); otherwise wait up to this many ms. */
  maxDelayMs?: number;
  /** Longest wait between attempts of a failed statement. Default 5 s. */
  retryCapMs?: number;
  log?: { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
  /**
   * After a write committed: the provider message ids it recorded, so provider events that arrived before
   * the send result (pending, consumers/jobs/events.ts) are applied now. Failures are logged; the events
   * job's sweep applies them later.
   */
  onRecorded?: (providerMessageIds: string[]) => Promise<unknown>;
}

/** The recorder was closed (process shutting down) while a write was still being retried. */
export class RecorderClosedError extends Error {
  /** The process is going away, not the message's fault: its claim must not be released (DESIGN §5.7). */
  readonly infrastructure = true;
  constructor(cause: unknown) {
    super(`result recorder closed before the write landed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = "RecorderClosedError";
  }
}

interface Waiter {
  entry: ResultEntry;
  resolve: (c: BatchCounters | undefined) => void;
  reject: (err: unknown) => void;
}

export class ResultRecorder {
  private readonly maxResults: number;
  private readonly maxDelayMs: number;
  private queue: Waiter[] = [];
  private queuedResults = 0;
  private scheduled: { cancel: () => void } | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly closing = new AbortController();
  /** Statements that failed and were retried (tests and metrics read it). */
  retries = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: ResultRecorderOptions = {},
  ) {
    this.maxResults = opts.maxResults ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 0;
  }

  /** Ends retrying: waiters of a write that has not landed reject with RecorderClosedError. */
  close(): void {
    this.closing.abort();
  }

  /** Resolves with this batch's counters after the write committed; undefined when there was nothing to write. */
  record(entry: ResultEntry): Promise<BatchCounters | undefined> {
    if (entry.results.length === 0) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.queuedResults += entry.results.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight) return; // the running flush picks the queue up when it ends
    if (this.queuedResults >= this.maxResults) return this.flushNow();
    if (this.scheduled) return;
    if (this.maxDelayMs > 0) {
      const t = setTimeout(() => this.flushNow(), this.maxDelayMs);
      this.scheduled = { cancel: () => clearTimeout(t) };
    } else {
      const i = setImmediate(() => this.flushNow());
      this.scheduled = { cancel: () => clearImmediate(i) };
    }
  }

  private flushNow(): void {
    this.scheduled?.cancel();
    this.scheduled = undefined;
    if (this.inFlight || this.queue.length === 0) return;
    const waiters = this.queue;
    this.queue = [];
    this.queuedResults = 0;
    this.inFlight = this.write(waiters).finally(() => {
      this.inFlight = undefined;
      // Entries that arrived meanwhile have already waited one statement: write them at once.
      if (this.queue.length > 0) this.flushNow();
    });
  }

  private afterRecorded(waiters: Waiter[]): void {
    if (!this.opts.onRecorded) return;
    const ids = waiters.flatMap((w) => w.entry.results.flatMap((r) => (r.status === "sent" && r.providerMessageId ? [r.providerMessageId] : [])));
    if (ids.length === 0) return;
    this.opts.onRecorded(ids).catch((err: unknown) => this.opts.log?.warn({ err: (err as Error).message }, "applying pending provider events failed; the sweep will"));
  }

  private async write(waiters: Waiter[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let counters: Map<string, BatchCounters>;
      try {
        counters = await recordResultsGrouped(
          this.db,
          waiters.map((w) => w.entry),
        );
      } catch (err) {
        if (this.closing.signal.aborted) {
          for (const w of waiters) w.reject(new RecorderClosedError(err));
          return;
        }
        this.retries++;
        const infra = isInfrastructureError(err);
        if (!infra && waiters.length > 1) {
          this.opts.log?.error({ err: (err as Error).message, entries: waiters.length }, "result statement failed; writing each chunk's results alone");
          for (const w of waiters) await this.write([w]);
          return;
        }
        const delay = backoffMs(attempt, { baseMs: 100, capMs: this.opts.retryCapMs ?? 5000 });
        const level = infra ? "warn" : "error";
        this.opts.log?.[level]({ err: (err as Error).message, attempt: attempt + 1, delay, results: waiters.reduce((n, w) => n + w.entry.results.length, 0) }, "result write failed; retrying (outcomes kept)");
        await sleep(delay, this.closing.signal);
        continue;
      }
      for (const w of waiters) w.resolve(counters.get(w.entry.batchId));
      this.afterRecorded(waiters);
      return;
    }
  }
}
