/**
 * The provider-call loop of one claimed chunk: render, then per provider call take tokens, re-check the
 * batch status, call, and record that call's results at once. Recording per call keeps the window of "sent
 * but not recorded" to the calls in flight, which is the whole duplicate bound for SES (no idempotency key).
 * The record goes through the process's ResultRecorder (group commit) and is awaited, so that bound holds.
 */
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { backoffMs, retryWhileInfraDown, sleep } from "../retry";
import { BucketStoreUnavailableError, type BucketSpec } from "../ratelimit/interface";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "../providers/interface";
import type { Metrics } from "../metrics";
import type { BatchStatusCache } from "./batch-status";
import { renderChunk, type BatchForRender } from "./render";
import { completeIfDone, isDone, markCallGroup, priorCallGroups, releaseClaims, rowsOfCallGroup, type ClaimedRow, type Db, type FinalResult } from "./recipient-store";
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

export type TakeTokens = (
  specs: BucketSpec[],
  opts: { signal?: AbortSignal; onWait?: (waitMs: number) => void; onStoreUnavailable?: (err: BucketStoreUnavailableError, waitMs: number) => void },
) => Promise<void>;

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
  /** Extends the message's ack wait (msg.working()). The job runner's heartbeat already does so on a timer. */
  working: () => void;
  /**
   * The subset of `ids` this claim still holds. Called before every provider call; cheap (no query) while
   * the lease has been extended recently, a guarded re-assertion of the claim when it has not.
   */
  ownedIds?: (ids: number[]) => Promise<number[]>;
}

export interface CallsResult {
  /** Claimed rows still unsent after retryable outcomes; the caller releases or dead-letters them. */
  retryIds: number[];
  retryReason?: string;
  retryAfterMs?: number;
  interrupted?: "paused" | "cancelled" | "shutdown";
}

export class ShutdownInterrupt extends Error {}

async function takeTokens(deps: CallDeps, ctx: ChunkContext, specs: BucketSpec[]): Promise<void> {
  const provider = ctx.client.provider;
  for (;;) {
    const waitSignal = deps.stopSignal ?? deps.signal;
    if (deps.stopping() || waitSignal.aborted || deps.signal.aborted) throw new ShutdownInterrupt("shutdown while waiting for tokens");
    try {
      // The job runner's heartbeat keeps the message and the lease alive during every wait below.
      await deps.takeTokens(specs, {
        signal: waitSignal,
        onWait: () => deps.metrics.bucketWaits.inc({ provider }),
        // Fail closed: while the store is down no tokens and no call; the wait goes on here (not a delivery).
        onStoreUnavailable: (err, waitMs) => {
          deps.metrics.bucketStoreDown.inc();
          deps.log.warn({ err: err.message, waitMs }, "bucket store unavailable; sending paused");
        },
      });
      return;
    } catch (err) {
      if (waitSignal.aborted || deps.signal.aborted) throw new ShutdownInterrupt("aborted while waiting for tokens");
      // A take that gave up on its own (a token wait limit) is retried here too; anything else is a fault.
      if (!(err instanceof BucketStoreUnavailableError) && !(err as { retryable?: boolean }).retryable) throw err;
      if (err instanceof BucketStoreUnavailableError) deps.metrics.bucketStoreDown.inc();
      deps.log.warn({ err: (err as Error).message }, "token take failed; retrying");
      await sleep(500, deps.signal);
    }
  }
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
    if (isDone(counters)) await retryWhileInfraDown(() => completeIfDone(deps.db, batch.id), { what: "batch completion", log: deps.log, signal: deps.signal });
  };
  // Shutdown: give unsent rows back at once if the database answers; otherwise their lease runs out.
  const releaseForShutdown = () =>
    releaseClaims(deps.db, { batchId: batch.id, token }).catch((err) => deps.log.warn({ err: (err as Error).message }, "release at shutdown failed; rows wait for their lease"));

  // Render first: a recipient whose variables, template limits or rendered size are refused fails alone, with
  // the reason (permanent, never a redelivery); rendering yields to the event loop between recipients.
  const { messages, failures } = await renderChunk(batch, claimed, { onYield: ctx.working });
  await record(failures.map((f): FinalResult => ({ id: f.id, status: "failed", error: f.reason })));

  const calls = await planCalls(deps, ctx, claimed, messages);
  const result: CallsResult = { retryIds: [] };
  const retries = deps.inProcessRetries ?? 2;

  for (let c = 0; c < calls.length; c++) {
    const remainingIds = () => calls.slice(c).flatMap((call) => [...call.own]);
    const call = calls[c]!;
    let pending = call.messages;
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
        await releaseForShutdown();
        return { retryIds: [], interrupted: "shutdown" };
      }
      if (deps.stopping()) {
        await releaseForShutdown();
        return { retryIds: [], interrupted: "shutdown" };
      }
      const status = await retryWhileInfraDown(() => deps.statuses.get(batch.id), { what: "batch status", log: deps.log, signal: deps.signal });
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
        await retryWhileInfraDown(() => releaseClaims(deps.db, { batchId: batch.id, token }), { what: "release of a paused chunk", log: deps.log, signal: deps.signal });
        return { retryIds: [], interrupted: "paused" };
      }

      // After a long stretch without a lease extension (database unreachable), another consumer may have
      // taken over rows whose lease ran out: send only what this claim still holds.
      if (ctx.ownedIds) {
        const mine = pending.map((m) => m.recipientId).filter((id) => call.own.has(id));
        const owned = new Set(await ctx.ownedIds(mine));
        if (owned.size < mine.length) {
          deps.log.warn({ lost: mine.length - owned.size }, "claim lost while the lease could not be extended; skipping those rows");
          for (const id of mine) if (!owned.has(id)) call.own.delete(id);
          // A replayed call must stay exactly as it was (its key); a fresh one just drops the lost rows.
          if (!call.replay) pending = pending.filter((m) => owned.has(m.recipientId));
          if (call.own.size === 0) break;
        }
      }
      if (pending.length > 1 && !call.replay && !batch.dryRun) {
        // Persisted before the call: if its outcome goes unrecorded, the rows are re-sent only as this group.
        const ids = pending.map((m) => m.recipientId);
        await retryWhileInfraDown(() => markCallGroup(deps.db, { batchId: batch.id, token, ids, group: callGroupOf(ids) }), { what: "call group", log: deps.log, signal: deps.signal });
      }
      const allOutcomes: SendOutcome[] = batch.dryRun
        ? pending.map((m) => ({ recipientId: m.recipientId, status: "sent", providerMessageId: `dry-run:${m.idempotencyKey}` }))
        : await client.send(pending, deps.signal);
      // A replayed call carries rows of other claims too: only this claim's rows are recorded or retried here.
      const ownOutcomes = call.replay ? allOutcomes.filter((o) => call.own.has(o.recipientId)) : allOutcomes;
      for (const o of ownOutcomes) deps.metrics.sends.inc({ provider, outcome: batch.dryRun ? "dry_run" : o.status });
      await record(ownOutcomes.map(toFinal).filter((f): f is FinalResult => !!f));
      const outcomes = ownOutcomes;

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
      if (!call.replay) pending = pending.filter((m) => ids.has(m.recipientId));
      await sleep(backoffMs(attempt, { baseMs: 250, capMs: 2000, retryAfterMs: retryAfter }), deps.signal);
    }
  }
  return result;
}

interface PlannedCall {
  messages: OutgoingMessage[];
  /** Rows of this claim in the call (a replayed call may carry rows of other claims). */
  own: Set<number>;
  /** Rebuilt exactly as an earlier call whose outcome was never recorded. */
  replay: boolean;
}

/** A stable name for the group of rows one call carries: the same ids always give the same group. */
export function callGroupOf(ids: number[]): string {
  return createHash("sha256")
    .update([...ids].sort((a, b) => a - b).join(","))
    .digest("hex")
    .slice(0, 32);
}

/**
 * Splits the claim into provider calls. For a client that sends several recipients per call (Resend batch,
 * whose idempotency key is derived from the call's recipient ids), rows that were already part of a call
 * whose outcome went unrecorded (crash, hard shutdown) are re-sent only as that exact call, rebuilt from
 * every row of its group, so the provider sees the same key and replays its answer instead of sending again
 * — however a re-plan regrouped the rows into chunks. Fresh rows are sliced as before.
 */
async function planCalls(deps: CallDeps, ctx: ChunkContext, claimed: ClaimedRow[], messages: OutgoingMessage[]): Promise<PlannedCall[]> {
  const { batch, client } = ctx;
  const slice = (ms: OutgoingMessage[]) => {
    const out: PlannedCall[] = [];
    for (let i = 0; i < ms.length; i += client.maxPerCall) {
      const part = ms.slice(i, i + client.maxPerCall);
      out.push({ messages: part, own: new Set(part.map((m) => m.recipientId)), replay: false });
    }
    return out;
  };
  // Only rows claimed before can have been in an earlier call.
  if (client.maxPerCall <= 1 || batch.dryRun || !claimed.some((r) => r.attempts > 1)) return slice(messages);
  const prior = await retryWhileInfraDown(() => priorCallGroups(deps.db, { batchId: batch.id, ids: messages.map((m) => m.recipientId) }), {
    what: "call groups",
    log: deps.log,
    signal: deps.signal,
  });
  if (prior.size === 0) return slice(messages);
  const calls: PlannedCall[] = [];
  for (const group of new Set(prior.values())) {
    const rows = await retryWhileInfraDown(() => rowsOfCallGroup(deps.db, { batchId: batch.id, group }), { what: "call group rows", log: deps.log, signal: deps.signal });
    const own = new Set(messages.filter((m) => prior.get(m.recipientId) === group).map((m) => m.recipientId));
    // Rendering is deterministic: the rows render exactly as they did for the original call.
    calls.push({ messages: (await renderChunk(batch, rows)).messages, own, replay: true });
  }
  return [...calls, ...slice(messages.filter((m) => !prior.has(m.recipientId)))];
}
