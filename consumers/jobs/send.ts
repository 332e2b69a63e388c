/**
 * Sender (`send.<region>.<channel>`): one chunk message = claim → provider calls (send-calls.ts) → outcome.
 * The job runner (runner.ts) does decode, trace, heartbeat, ack/nak and the DLQ; this file says what a chunk
 * means:
 * - retryable provider outcomes: rows released to `queued`, `retry` (nak with backoff; DLQ on the last one);
 * - rows held by another live claim: `defer` until that lease would have run out, so a crashed owner's rows
 *   are re-sent by this chunk's redelivery (never stranded in `sending`);
 * - infrastructure errors are thrown to the runner, which runs this handler again with the same claim token:
 *   `claimedBy(token)` picks up what the earlier run claimed, so nothing is claimed twice or left behind;
 * - dead letter (`failUnfinishedChunk`): every row of the chunk this claim holds or can still claim becomes
 *   `failed` with the reason (counters too) — never left `queued` or `sending`.
 * The runner's heartbeat extends the rows' lease; if it could not for most of a lease (database down), the
 * claim is re-asserted before the next provider call (send-calls.ts `ownedIds`).
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { SendChunkMessage } from "../../core/contract";
import { ProviderConfigError, type ProviderRegistry, type SendConfigRow } from "../providers/registry";
import { isInfrastructureError as isInfra, retryWhileInfraDown } from "../retry";
import type { JobContext, JobOutcome } from "./runner";
import { runProviderCalls, type CallDeps, type ChunkContext } from "./send-calls";
import {
  claimedBy,
  claimRecipients,
  completeIfDone,
  extendLease,
  heldElsewhere,
  isDone,
  LEASE_SECONDS,
  reassertClaim,
  recordResults,
  releaseClaims,
  type ClaimedRow,
} from "./recipient-store";

export interface SendDeps extends CallDeps {
  js: JetStreamClient;
  providers: ProviderRegistry;
  maxDeliver: number;
  heartbeatMs?: number;
}

export { nakDelayMs } from "./runner";

interface BatchRow extends SendConfigRow {
  batch_id: string;
  tenant_id: string;
  status: string;
  payload: unknown;
  dry_run: boolean;
  defaults: Record<string, unknown>;
  rate_limit_per_second: number | null;
}

/** When the lease was last known to hold every row, per delivery (kept across the runner's re-runs). */
interface LeaseState {
  okAt: number;
  /** Rows found taken over by another claim: never sent by this one. */
  lost: Set<number>;
}
const leases = new WeakMap<JobContext, LeaseState>();
/** 15 s of margin: heartbeats run every 5 s, so a gap this long means several failed extensions. */
const leaseGap = (l: LeaseState) => Date.now() - l.okAt >= (LEASE_SECONDS - 15) * 1000;

function mergeRows(a: ClaimedRow[], b: ClaimedRow[]): ClaimedRow[] {
  const byId = new Map<number, ClaimedRow>();
  for (const r of [...a, ...b]) byId.set(r.id, r);
  return [...byId.values()].sort((x, y) => x.id - y.id);
}

export async function sendChunk(deps: SendDeps, ctx: JobContext, body: SendChunkMessage): Promise<JobOutcome> {
  const { log, token } = ctx;
  const found = await deps.db.query<BatchRow>({
    name: "bs_send_batch",
    text: `select b.id as batch_id, b.tenant_id, b.status, b.payload, b.dry_run,
                  sc.id, sc.mode, sc.provider, sc.defaults, sc.rate_limit_per_second,
                  sc.credentials_ciphertext, sc.credentials_key_id, sc.updated_at
             from batches b join send_configs sc on sc.id = b.send_config_id
            where b.id = $1 and b.tenant_id = $2`,
    values: [body.batchId, body.tenantId],
  });
  const row = found.rows[0];
  if (!row) {
    log.warn("send chunk for unknown batch; dropped");
    return { kind: "ack" };
  }
  // The chunk's plan generation: the claim skips rows if a newer plan superseded this chunk (pause/resume).
  const scope = { batchId: body.batchId, ids: body.recipientIds, token, generation: body.generation };
  let lease = leases.get(ctx);
  if (!lease) {
    const l = (lease = { okAt: Date.now(), lost: new Set<number>() });
    leases.set(ctx, l);
    ctx.onHeartbeat(async () => {
      // After a gap longer than the margin, a successful extension proves nothing about rows another
      // consumer may have taken meanwhile: only the per-row re-assertion below may clear the gap.
      const gap = leaseGap(l);
      await extendLease(deps.db, { batchId: body.batchId, token });
      if (!gap) l.okAt = Date.now();
    });
  }
  const end = deps.metrics.claimSeconds.startTimer();
  let claimed = await claimRecipients(deps.db, scope);
  // A run after an infrastructure error: what the earlier run claimed (and did not record) is ours still.
  if (ctx.runs > 0) claimed = mergeRows(claimed, await claimedBy(deps.db, { batchId: body.batchId, token }));
  lease.okAt = Date.now();
  end();

  const infra = { log, signal: deps.signal };
  let retryIds: number[] = [];
  let reason = "";
  let retryAfterMs = 0;
  if (claimed.length > 0) {
    let ctxCalls: ChunkContext;
    try {
      ctxCalls = {
        token,
        working: ctx.working,
        ownedIds: async (ids) => {
          // Heartbeats extend the lease every few seconds; only when none did for most of a lease could
          // another consumer have taken rows over. Then every row of the claim is re-asserted at once.
          if (leaseGap(lease)) {
            const all = claimed.map((r) => r.id);
            const owned = new Set(await reassertClaim(deps.db, { batchId: body.batchId, token, ids: all }));
            for (const id of all) if (!owned.has(id)) lease.lost.add(id);
            lease.okAt = Date.now();
          }
          return ids.filter((id) => !lease.lost.has(id));
        },
        client: await deps.providers.clientFor(row),
        batch: {
          id: row.batch_id,
          tenantId: row.tenant_id,
          payload: row.payload,
          defaults: row.defaults,
          dryRun: row.dry_run,
          sendConfig: { id: row.id, mode: row.mode, rateLimitPerSecond: row.rate_limit_per_second },
        },
      };
    } catch (err) {
      if (!(err instanceof ProviderConfigError)) throw err;
      // A broken send config will not heal by retrying: fail these recipients with the reason.
      const counters = await deps.recorder.record({ batchId: body.batchId, token, results: claimed.map((r) => ({ id: r.id, status: "failed" as const, error: err.message })) });
      if (isDone(counters)) await retryWhileInfraDown(() => completeIfDone(deps.db, body.batchId), { what: "batch completion", ...infra });
      return { kind: "ack" };
    }
    let res;
    try {
      res = await runProviderCalls({ ...deps, log }, ctxCalls, claimed);
    } catch (err) {
      // Every known outcome is recorded before runProviderCalls goes on, so what this claim still holds is
      // unsent. An infrastructure error keeps it (the runner re-runs with the same token); a fault gives it back.
      if (!isInfra(err)) {
        await releaseClaims(deps.db, { batchId: body.batchId, token }).catch(() => undefined);
      }
      throw err;
    }
    if (res.interrupted === "shutdown") return { kind: "release", reason: "shutdown" }; // claims already released
    // Claims released. Keep the chunk alive (its rows are in no other chunk of this plan generation): if the
    // pause was real, the redelivery claims nothing and acks; if the status read was stale (a resume landed
    // meanwhile), it sends them.
    if (res.interrupted === "paused") return { kind: "defer", delayMs: 1000, reason: "batch paused" };
    retryIds = res.retryIds;
    reason = res.retryReason ?? "retryable provider error";
    retryAfterMs = res.retryAfterMs ?? 0;
  }

  if (retryIds.length > 0) {
    // On the last delivery the rows stay claimed: the dead letter fails them under this token.
    if (!ctx.lastDelivery) await retryWhileInfraDown(() => releaseClaims(deps.db, { batchId: body.batchId, token, ids: retryIds }), { what: "release of retryable rows", ...infra });
    return { kind: "retry", reason, retryAfterMs };
  }
  // This claim took every row of the chunk and lost none of them: no row can be held elsewhere (skip the query).
  if (lease.lost.size === 0 && claimed.length === new Set(body.recipientIds).size) return { kind: "ack" };
  const held = await retryWhileInfraDown(() => heldElsewhere(deps.db, scope), { what: "held-elsewhere check", ...infra });
  if (held.count > 0) return { kind: "defer", delayMs: held.msUntilExpiry + 1000 + Math.round(Math.random() * 1000), reason: `${held.count} rows held by a live claim` };
  return { kind: "ack" };
}

/**
 * Dead letter of a chunk: every row it still covers that no live claim holds — the rows this delivery holds
 * and the chunk's rows that are still claimable — becomes `failed` with the reason, counters with them.
 */
export async function failUnfinishedChunk(deps: SendDeps, ctx: JobContext, body: SendChunkMessage, reason: string): Promise<{ unfinishedRecipientIds: number[] }> {
  const { token } = ctx;
  const claimable = await claimRecipients(deps.db, { batchId: body.batchId, ids: body.recipientIds, token });
  const rows = mergeRows(claimable, await claimedBy(deps.db, { batchId: body.batchId, token }));
  const ids = rows.map((r) => r.id).filter((id) => body.recipientIds.includes(id));
  if (ids.length > 0) {
    const error = `gave up after ${ctx.deliveryCount} deliveries: ${reason}`.slice(0, 500);
    const counters = await recordResults(deps.db, { batchId: body.batchId, token, results: ids.map((id) => ({ id, status: "failed" as const, error })) });
    if (isDone(counters)) await completeIfDone(deps.db, body.batchId);
    ctx.log.warn({ failed: ids.length, reason }, "chunk dead-lettered; unfinished recipients failed");
  }
  return { unfinishedRecipientIds: ids };
}
