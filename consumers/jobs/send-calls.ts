/**
 * The provider-call loop of one claimed chunk: render, then per provider call take tokens, re-check the
 * batch status, call, and record that call's results at once. Recording per call keeps the window of "sent
 * but not recorded" to the calls in flight, which is the whole duplicate bound for SES (no idempotency key).
 * The record goes through the process's ResultRecorder (group commit) and is awaited, so that bound holds.
 */
import type { Logger } from "pino";
import { BucketStoreUnavailableError, type BucketSpec } from "../ratelimit/interface";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "../providers/interface";
import type { Metrics } from "../metrics";
import type { BatchStatusCache } from "./batch-status";
import { renderChunk, type BatchForRender } from "./render";
import { completeIfDone, isDone, releaseClaims, type ClaimedRow, type Db, type FinalResult } from "./recipient-store";
import type { ResultRecorder } from "./result-recorder";

export interface TokenRequest {
  provider: ProviderClient["provider"];
  mode: "managed" | "byok";
  sendConfigId: string;
  tenantId: string;
  /** BYOK only: the config's own provider account rate. */
  rateLimitPerSecond: number | null;
  /** Recipients in this call (a Resend batch of 100 is 1 request and 100 recipients). */
  recipients: number;
}

export type TakeTokens = (specs: BucketSpec[], opts: { signal?: AbortSignal; onWait?: (waitMs: number) => void }) => Promise<void>;

export interface CallDeps {
  db: Db;
  /** The process's group commit of results (one statement for the results of all concurrent chunks). */
  recorder: ResultRecorder;
  log: Logger;
  metrics: Metrics;
  statuses: BatchStatusCache;
  bucketsFor: (req: TokenRequest) => BucketSpec[];
  takeTokens: TakeTokens;
  /** True once shutdown began: no new provider calls; unsent claims are released. */
  stopping: () => boolean;
  /** Aborted at the hard shutdown deadline: in-flight provider calls end. */
  signal: AbortSignal;
  /** Aborted when shutdown begins: token waits end at once (no new calls will be made anyway). */
  stopSignal?: AbortSignal;
  inProcessRetries?: number;
}

export interface ChunkContext {
  batch: BatchForRender & { dryRun: boolean; sendConfig: { id: string; mode: "managed" | "byok"; rateLimitPerSecond: number | null } };
  token: string;
  client: ProviderClient;
  /** Extends the message's ack wait (msg.working()). */
  working: () => void;
}

export interface CallsResult {
  /** Claimed rows still unsent after retryable outcomes; the caller releases or dead-letters them. */
  retryIds: number[];
  retryReason?: string;
  retryAfterMs?: number;
  interrupted?: "paused" | "cancelled" | "shutdown";
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
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

export class ShutdownInterrupt extends Error {}

async function takeTokens(deps: CallDeps, ctx: ChunkContext, specs: BucketSpec[]): Promise<void> {
  const provider = ctx.client.provider;
  for (;;) {
    const waitSignal = deps.stopSignal ?? deps.signal;
    if (deps.stopping() || waitSignal.aborted || deps.signal.aborted) throw new ShutdownInterrupt("shutdown while waiting for tokens");
    try {
      await deps.takeTokens(specs, {
        signal: waitSignal,
        onWait: () => {
          ctx.working();
          deps.metrics.bucketWaits.inc({ provider });
        },
      });
      return;
    } catch (err) {
      if (waitSignal.aborted || deps.signal.aborted) throw new ShutdownInterrupt("aborted while waiting for tokens");
      // Fail closed: no tokens, no call. Wait here (heartbeating) rather than burn a delivery attempt.
      if (!(err instanceof BucketStoreUnavailableError) && !(err as { retryable?: boolean }).retryable) throw err;
      deps.metrics.bucketStoreDown.inc();
      deps.log.warn({ err: (err as Error).message }, "bucket store unavailable; sending paused");
      ctx.working();
      await sleep(500, deps.signal);
    }
  }
}

export function backoffMs(attempt: number, retryAfterMs = 0, baseMs = 250, capMs = 2000): number {
  const exp = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.max(retryAfterMs, exp / 2 + Math.random() * (exp / 2));
}

function toFinal(o: SendOutcome): FinalResult | undefined {
  if (o.status === "sent") return { id: o.recipientId, status: "sent", providerMessageId: o.providerMessageId };
  if (o.status === "failed") return { id: o.recipientId, status: "failed", error: o.reason };
  return undefined;
}

export async function runProviderCalls(deps: CallDeps, ctx: ChunkContext, claimed: ClaimedRow[]): Promise<CallsResult> {
  const { batch, client, token } = ctx;
  const provider = client.provider;
  const record = async (results: FinalResult[]) => {
    if (!results.length) return;
    const end = deps.metrics.recordSeconds.startTimer();
    // Resolves only once the statement holding these rows committed: nothing else happens to this chunk
    // (next call, ack) before its results are durable.
    const counters = await deps.recorder.record({ batchId: batch.id, token, results });
    end();
    if (isDone(counters)) await completeIfDone(deps.db, batch.id);
  };

  // Render first: a recipient whose variables, template limits or rendered size are refused fails alone, with
  // the reason (permanent, never a redelivery); rendering yields to the event loop between recipients.
  const { messages, failures } = await renderChunk(batch, claimed, { onYield: ctx.working });
  await record(failures.map((f): FinalResult => ({ id: f.id, status: "failed", error: f.reason })));

  const calls: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += client.maxPerCall) calls.push(messages.slice(i, i + client.maxPerCall));
  const result: CallsResult = { retryIds: [] };
  const retries = deps.inProcessRetries ?? 2;

  for (let c = 0; c < calls.length; c++) {
    const remainingIds = () => calls.slice(c).flatMap((call) => call.map((m) => m.recipientId));
    let pending = calls[c]!;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!batch.dryRun) {
          const specs = deps.bucketsFor({
            provider,
            mode: batch.sendConfig.mode,
            sendConfigId: batch.sendConfig.id,
            tenantId: batch.tenantId,
            rateLimitPerSecond: batch.sendConfig.rateLimitPerSecond,
            recipients: pending.length,
          });
          await takeTokens(deps, ctx, specs);
        }
      } catch (err) {
        if (!(err instanceof ShutdownInterrupt)) throw err;
        await releaseClaims(deps.db, { batchId: batch.id, token });
        return { retryIds: [], interrupted: "shutdown" };
      }
      if (deps.stopping()) {
        await releaseClaims(deps.db, { batchId: batch.id, token });
        return { retryIds: [], interrupted: "shutdown" };
      }
      const status = await deps.statuses.get(batch.id);
      if (status === "cancelled") {
        // Every row this claim still holds (unsent calls and earlier retries); recorded rows are skipped by
        // the claim guard, so they keep their real outcome.
        const ids = claimed.map((r) => r.id);
        await record(ids.map((id) => ({ id, status: "cancelled" as const, error: "batch cancelled" })));
        deps.metrics.sends.inc({ provider, outcome: "cancelled" }, remainingIds().length);
        return { retryIds: [], interrupted: "cancelled" };
      }
      if (status !== "processing") {
        // Paused (or anything else that is not sending): give the rows back; a resume re-plans them.
        await releaseClaims(deps.db, { batchId: batch.id, token });
        return { retryIds: [], interrupted: "paused" };
      }

      ctx.working();
      const outcomes: SendOutcome[] = batch.dryRun
        ? pending.map((m) => ({ recipientId: m.recipientId, status: "sent", providerMessageId: `dry-run:${m.idempotencyKey}` }))
        : await client.send(pending, deps.signal);
      for (const o of outcomes) deps.metrics.sends.inc({ provider, outcome: batch.dryRun ? "dry_run" : o.status });
      await record(outcomes.map(toFinal).filter((f): f is FinalResult => !!f));

      const retry = outcomes.filter((o): o is Extract<SendOutcome, { status: "retry" }> => o.status === "retry");
      if (retry.length === 0) break;
      const retryAfter = Math.max(0, ...retry.map((o) => o.retryAfterMs ?? 0));
      result.retryReason = retry[0]!.reason;
      if (attempt >= retries || deps.stopping() || retryAfter > 5_000) {
        deps.metrics.retries.inc({ provider, via: "nak" }, retry.length);
        result.retryIds.push(...retry.map((o) => o.recipientId));
        result.retryAfterMs = Math.max(result.retryAfterMs ?? 0, retryAfter);
        break;
      }
      deps.metrics.retries.inc({ provider, via: "in_process" }, retry.length);
      const ids = new Set(retry.map((o) => o.recipientId));
      pending = pending.filter((m) => ids.has(m.recipientId));
      ctx.working();
      await sleep(backoffMs(attempt, retryAfter), deps.signal);
    }
  }
  return result;
}
