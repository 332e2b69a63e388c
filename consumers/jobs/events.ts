/**
 * The events job (catalog entry `events`): provider events from `event.<region>.<provider>` (published by the
 * edge's webhook routes) into Postgres. Messages are applied in groups for throughput: each handler queues
 * its event and waits for the group's flush (insert-with-dedupe, then one apply statement), then acks — so a
 * message is acked only after its event is durably stored, applied or pending. Hundreds of concurrent
 * messages share one pair of statements (the same group-commit idea as result-recorder.ts).
 *
 * A periodic sweep applies pending events whose recipient became known without the recorder's hook having
 * done it (a crash between the two), so an early event is applied at the latest one sweep later.
 */
import type { ProviderEventMessage } from "../../core/contract";
import { applyOptOut, applyPendingEvents, insertEvents, type AppliedEvent } from "./events-store";
import type { Db } from "./recipient-store";
import type { JobContext, JobOutcome } from "./runner";

export interface EventApplierOptions {
  /** Flush at once when this many events are queued. Default 2,000. */
  maxEvents?: number;
  /** Called with what each flush applied (analytics rows). Errors are logged, never thrown. */
  onApplied?: (applied: AppliedEvent[], received: ProviderEventMessage[]) => Promise<void> | void;
  log?: { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
}

interface Waiter {
  event: ProviderEventMessage;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class EventApplier {
  private queue: Waiter[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  /** Counters for metrics and tests. */
  readonly stats = { received: 0, duplicates: 0, applied: 0, flushes: 0 };

  constructor(
    private readonly db: Db,
    private readonly opts: EventApplierOptions = {},
  ) {}

  /** Resolves once the event is stored (and applied when its recipient is known). */
  add(event: ProviderEventMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight) return;
    if (this.queue.length >= (this.opts.maxEvents ?? 2000)) return void this.flushNow();
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushNow());
  }

  private flushNow(): void {
    this.scheduled = false;
    if (this.inFlight || this.queue.length === 0) return;
    const waiters = this.queue.splice(0, this.opts.maxEvents ?? 2000);
    this.inFlight = this.write(waiters).finally(() => {
      this.inFlight = undefined;
      if (this.queue.length > 0) this.flushNow();
    });
  }

  private async write(waiters: Waiter[]): Promise<void> {
    const events = waiters.map((w) => w.event);
    try {
      const fresh = await insertEvents(this.db, events);
      const received = events.filter((e) => fresh.delete(`${e.provider}:${e.eventId}`));
      this.stats.received += received.length;
      this.stats.duplicates += events.length - received.length;
      for (const e of received) {
        if ((e.type === "stop" || e.type === "start") && e.address) await applyOptOut(this.db, { type: e.type, address: e.address, source: `${e.provider}:${e.eventId}` });
      }
      const pmids = [...new Set(received.flatMap((e) => (e.providerMessageId ? [e.providerMessageId] : [])))];
      const applied = pmids.length ? await applyPendingEvents(this.db, pmids) : [];
      this.stats.applied += applied.length;
      this.stats.flushes++;
      await this.report(applied, received);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }

  /** Applies every pending event whose recipient is now known (the recorder's hook and the sweep). */
  async applyPending(providerMessageIds: string[] | null): Promise<number> {
    let total = 0;
    for (;;) {
      const applied = await applyPendingEvents(this.db, providerMessageIds);
      this.stats.applied += applied.length;
      total += applied.length;
      await this.report(applied, []);
      if (applied.length < 20_000) return total;
    }
  }

  private async report(applied: AppliedEvent[], received: ProviderEventMessage[]): Promise<void> {
    if (!this.opts.onApplied || (applied.length === 0 && received.length === 0)) return;
    try {
      await this.opts.onApplied(applied, received);
    } catch (err) {
      this.opts.log?.error({ err: (err as Error).message }, "events: onApplied failed");
    }
  }
}

export interface EventsDeps {
  events: EventApplier;
}

export async function handleProviderEvent(deps: EventsDeps, _ctx: JobContext, body: ProviderEventMessage): Promise<JobOutcome> {
  await deps.events.add(body);
  return { kind: "ack" };
}

/** Sweeps pending events every `everyMs` until stopped. */
export function startPendingSweep(applier: EventApplier, opts: { everyMs?: number; log: { warn: (o: object, m: string) => void } }): { stop: () => void } {
  let stopped = false;
  let running = false;
  const timer = setInterval(() => {
    if (stopped || running) return;
    running = true;
    applier
      .applyPending(null)
      .catch((err: unknown) => opts.log.warn({ err: (err as Error).message }, "pending events sweep failed"))
      .finally(() => (running = false));
  }, opts.everyMs ?? 5000);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
