/**
 * The one job runner (CONVENTIONS 10): everything a consumer does with a JetStream message that is not the
 * job's own business, written once for every entry of the catalog (catalog.ts):
 *
 * - decode: JSON + the entry's zod schema; a malformed message is terminated and logged (no redelivery);
 * - trace: the `Bs-Trace-Id` header goes into a child logger;
 * - heartbeat: `working()` on a timer for as long as the handler runs (plus the entry's own heartbeat work,
 *   e.g. the sender's lease extension), so no provider call or token wait needs its own;
 * - infrastructure errors (Postgres, NATS, the bucket store; consumers/retry.ts) thrown by the handler do not
 *   spend a delivery: the runner waits (capped backoff) and runs the handler again with the same context
 *   (same claim token), for as long as it takes, heartbeating meanwhile. Only per-message faults (the
 *   handler's `retry` outcome or any other error) count toward `MaxDeliver`;
 * - ack / nak with ONE backoff policy (`nakDelayMs`);
 * - the last delivery always ends in the DLQ: the entry's `onDeadLetter` marks what the message still
 *   covered as failed (retried while the database is down), the message is copied to `dlq.<subject>`
 *   (retried until it lands, never turned into a nak) and then acked.
 */
import { randomUUID } from "node:crypto";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { z } from "zod";
import { subjects, TRACE_HEADER, type ConsumerSpec, type DeadLetterMessage, type Region } from "../../core/contract";
import type { Metrics } from "../metrics";
import { backoffMs, isInfrastructureError, retryWhileInfraDown, sleep } from "../retry";

export interface JobContext {
  log: Logger;
  traceId?: string;
  subject: string;
  deliveryCount: number;
  /** This is the last delivery JetStream will make: a `retry` outcome now dead-letters the message. */
  lastDelivery: boolean;
  /** Stable for this delivery, also across in-process retries after infrastructure errors (the sender's claim token). */
  token: string;
  /** How many times the handler already ran for this delivery (> 0 after an infrastructure error). */
  runs: number;
  /** Extra work for every heartbeat (the sender extends its lease). Errors are logged, never thrown. */
  onHeartbeat(fn: () => Promise<unknown>): void;
  /** Extends the ack wait now, at most once a second (the heartbeat timer does this anyway). */
  working(): void;
}

export type JobOutcome =
  | { kind: "ack" }
  /** A per-message fault: counts toward MaxDeliver; nak with backoff, or DLQ on the last delivery. */
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  /** Shutdown: hand the message to another consumer at once. */
  | { kind: "release"; reason: string }
  /** Waiting on someone else (rows held by a live claim): nak after `delayMs`; acked on the last delivery. */
  | { kind: "defer"; delayMs: number; reason: string };

export type JobResult = "ack" | "nak" | "dlq" | "term";

export interface RetryPolicy {
  /** Nak delays grow from `baseMs` with the delivery count, capped at `capMs` (half jitter). */
  baseMs: number;
  capMs: number;
}

export interface JobEntry<T, D> {
  name: string;
  /** Stream, durable, subject and MaxDeliver of this job in a region (core/contract). */
  consumer: (region: Region) => ConsumerSpec;
  schema: z.ZodType<T>;
  retry: RetryPolicy;
  /** Messages handled at once by one process. */
  concurrency: (limits: { senderConcurrency: number }) => number;
  handle: (deps: D, ctx: JobContext, body: T) => Promise<JobOutcome>;
  /** Marks what the message still covers as failed with `reason`; returns extra fields for the DLQ copy. */
  onDeadLetter: (deps: D, ctx: JobContext, body: T, reason: string) => Promise<Record<string, unknown> | void>;
}

export interface RunnerDeps {
  js: JetStreamClient;
  log: Logger;
  metrics?: Metrics;
  /** True once shutdown began: infrastructure waits end and the message is handed back. */
  stopping: () => boolean;
  /** Aborted when shutdown begins (ends the runner's sleeps). */
  stopSignal?: AbortSignal;
  heartbeatMs?: number;
  /** Longest in-process wait between handler runs after an infrastructure error. Default 15 s. */
  infraCapMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 1000, capMs: 60_000 };

/** Backoff for a nak'ed message: exponential in the delivery count, capped, half jitter, never below retry-after. */
export function nakDelayMs(deliveryCount: number, retryAfterMs = 0, policy: RetryPolicy = DEFAULT_RETRY): number {
  return backoffMs(deliveryCount - 1, { baseMs: policy.baseMs, capMs: policy.capMs, retryAfterMs });
}

export async function runJob<T, D>(entry: JobEntry<T, D>, deps: D, runner: RunnerDeps, msg: JsMsg, maxDeliver: number): Promise<JobResult> {
  const result = await run(entry, deps, runner, msg, maxDeliver);
  runner.metrics?.chunks.inc({ job: entry.name, result });
  return result;
}

async function run<T, D>(entry: JobEntry<T, D>, deps: D, runner: RunnerDeps, msg: JsMsg, maxDeliver: number): Promise<JobResult> {
  const traceId = msg.headers?.get(TRACE_HEADER) || undefined;
  let body: T;
  try {
    body = entry.schema.parse(JSON.parse(new TextDecoder().decode(msg.data)));
  } catch (err) {
    runner.log.error({ traceId, job: entry.name, subject: msg.subject, err: (err as Error).message }, "malformed message; terminated");
    msg.term("malformed");
    return "term";
  }
  const ids = body as { batchId?: string };
  const log = runner.log.child({ traceId, job: entry.name, ...(ids.batchId ? { batchId: ids.batchId } : {}) });
  const hooks: (() => Promise<unknown>)[] = [];
  const ctx: JobContext = {
    log,
    traceId,
    subject: msg.subject,
    deliveryCount: msg.info.deliveryCount,
    lastDelivery: msg.info.deliveryCount >= maxDeliver,
    token: randomUUID(),
    runs: 0,
    onHeartbeat: (fn) => void hooks.push(fn),
    // Each `working()` is a NATS publish (and work for the server). The timer below already keeps the ack
    // wait extended, so an explicit call only goes out if the last one is over a second old.
    working: () => {
      if (Date.now() - lastWorking < 1000) return;
      lastWorking = Date.now();
      msg.working();
    },
  };
  let lastWorking = Date.now();
  let beating = false;
  const heartbeat = setInterval(() => {
    lastWorking = Date.now();
    msg.working();
    if (beating || hooks.length === 0) return;
    beating = true;
    void Promise.all(hooks.map((h) => h().catch((err) => log.warn({ err: (err as Error).message }, "heartbeat work failed")))).finally(() => (beating = false));
  }, runner.heartbeatMs ?? 5000);
  try {
    let outcome: JobOutcome;
    for (;;) {
      try {
        outcome = await entry.handle(deps, ctx, body);
        break;
      } catch (err) {
        if (isInfrastructureError(err)) {
          if (runner.stopping()) {
            outcome = { kind: "release", reason: `shutdown during an infrastructure error: ${(err as Error).message}` };
            break;
          }
          // Not the message's fault: wait and run again with the same context. No delivery is spent.
          const delay = backoffMs(ctx.runs, { baseMs: 500, capMs: runner.infraCapMs ?? 15_000 });
          runner.metrics?.infraWaits.inc({ job: entry.name });
          log.warn({ err: (err as Error).message, run: ctx.runs + 1, delay }, "infrastructure error; waiting and retrying in-process");
          ctx.runs++;
          await sleep(delay, runner.stopSignal);
          continue;
        }
        log.error({ err: (err as Error).message, stack: (err as Error).stack }, "handler failed");
        outcome = { kind: "retry", reason: (err as Error).message || String(err) };
        break;
      }
    }
    return await settle(entry, deps, runner, msg, ctx, body, outcome);
  } finally {
    clearInterval(heartbeat);
  }
}

async function settle<T, D>(entry: JobEntry<T, D>, deps: D, runner: RunnerDeps, msg: JsMsg, ctx: JobContext, body: T, outcome: JobOutcome): Promise<JobResult> {
  switch (outcome.kind) {
    case "ack":
      msg.ack();
      return "ack";
    case "release":
      msg.nak();
      return "nak";
    case "defer":
      if (ctx.lastDelivery) {
        ctx.log.warn({ reason: outcome.reason }, "last delivery while its work is held elsewhere; leaving it to the holder");
        msg.ack();
        return "ack";
      }
      msg.nak(outcome.delayMs);
      return "nak";
    case "retry": {
      if (ctx.lastDelivery) return deadLetter(entry, deps, runner, msg, ctx, body, outcome.reason);
      const delay = nakDelayMs(ctx.deliveryCount, outcome.retryAfterMs, entry.retry);
      ctx.log.info({ delay, reason: outcome.reason, delivery: ctx.deliveryCount }, "message retried later");
      msg.nak(delay);
      return "nak";
    }
  }
}

async function deadLetter<T, D>(entry: JobEntry<T, D>, deps: D, runner: RunnerDeps, msg: JsMsg, ctx: JobContext, body: T, reason: string): Promise<JobResult> {
  const { log } = ctx;
  let extra: Record<string, unknown> | void = undefined;
  try {
    extra = await retryWhileInfraDown(() => entry.onDeadLetter(deps, ctx, body, reason), { what: "dead-letter marking", log, signal: runner.stopSignal });
  } catch (err) {
    // Left to the reconciler; the DLQ copy below still records the message.
    log.error({ err: (err as Error).message }, "could not mark the dead-lettered message's work as failed");
  }
  const dead: DeadLetterMessage = {
    subject: msg.subject,
    data: { ...(body as object), ...(extra ?? {}) },
    deliveries: ctx.deliveryCount,
    reason,
    failedAt: new Date().toISOString(),
  };
  // Retried until it lands: on the last delivery a nak would be the end of the message (no redelivery).
  for (let attempt = 0; ; attempt++) {
    try {
      await runner.js.publish(subjects.dlq(msg.subject), JSON.stringify(dead), { headers: msg.headers });
      break;
    } catch (err) {
      if (runner.stopping()) {
        log.error({ err: (err as Error).message }, "shutdown before the DLQ copy landed; its work is already marked");
        break;
      }
      const delay = backoffMs(attempt, { baseMs: 500, capMs: 15_000 });
      log.warn({ err: (err as Error).message, delay }, "DLQ publish failed; retrying");
      await sleep(delay, runner.stopSignal);
    }
  }
  runner.metrics?.deadLettered.inc({ subject: msg.subject });
  log.warn({ reason }, "message dead-lettered");
  msg.ack();
  return "dlq";
}
