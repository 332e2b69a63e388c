/**
 * Planner (`batch.<region>.plan`): turns a queued batch into provider-sized chunks of recipient ids on
 * `send.<region>.<channel>`, one WINDOW at a time (plan-window.ts): only what the batch's buckets can send in
 * the next few seconds is published; the consumers' reconciler tops the window up as it drains
 * (reconcile.ts calls `topUpBatch`). `plan_cursor` remembers the highest id the current plan generation has
 * published, so a top-up never republishes rows already in a live chunk.
 *
 * Generations: resume, retry and a reconciler re-plan bump `plan_generation` and reset the cursor; plan
 * messages and chunks carry the generation they belong to, and stale ones are dropped (here and in the
 * sender's claim), so pause/resume loops cannot multiply chunks. Re-planning is harmless anyway: chunks name
 * ids, and the sender's guarded claim skips rows that are terminal or held by a live claim.
 *
 * One planner per batch at a time: a session advisory lock keyed on the batch id (not the batch row lock,
 * which the group commit of results needs); a second planner skips instead of waiting.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { Pool } from "pg";
import type { Logger } from "pino";
import { SendChunkMessage, subjects, TRACE_HEADER, type PlanBatchMessage, type Region } from "../../core/contract";
import { claimableSql, guardSql } from "../../core/domain/batch-states";
import { requeueFailedStep, STEP_ROWS } from "./bounded-steps";
import { CHUNK_SIZE, chunk, type ProviderName } from "./chunking";
import { planWindowFromEnv, windowRecipients, type PlanWindowConfig } from "./plan-window";
import { completeIfDone, failQueuedRecipients, type Db } from "./recipient-store";
import type { JobContext, JobOutcome } from "./runner";

export interface PlanDeps {
  db: Db & Pick<Pool, "connect">;
  js: JetStreamClient;
  region: Region;
  log: Logger;
  /** Called while publishing so the plan message's ack wait is extended on very large batches. */
  heartbeat?: () => void;
  /** Publishes awaited concurrently (JetStream acks pipelined). */
  maxInFlight?: number;
  /** Window sizing; default from process.env (PLAN_WINDOW_*, MANAGED_*_RPS, TENANT_SEND_RPS). */
  window?: PlanWindowConfig;
  /**
   * Which NATS deployment this process publishes to (its NATS_URL): recorded as the batch's `planned_by`
   * so only consumers of the same deployment top its windows up. Default: process.env.NATS_URL.
   */
  deployment?: string;
}

export function deploymentOf(deps: Pick<PlanDeps, "deployment">): string {
  return deps.deployment ?? process.env.NATS_URL ?? "default";
}

export type PlanResult =
  | { kind: "skipped"; reason: string }
  | { kind: "planned"; recipients: number; chunks: number; completed: boolean };

interface PlanRow {
  status: string;
  channel: "email" | "sms" | "webhook";
  provider: ProviderName;
  mode: "managed" | "byok";
  rate_limit_per_second: number | null;
  dry_run: boolean;
  plan_generation: number;
  plan_cursor: string;
  retry_requested_at: Date | null;
  trace_id: string | null;
}

const LOCK_NAMESPACE = 0x62_73_70_6c; // "bspl"

/** Runs `fn` holding the batch's planner lock; undefined when another planner holds it. */
async function withPlannerLock<T>(deps: PlanDeps, batchId: string, fn: () => Promise<T>): Promise<T | undefined> {
  const client = await deps.db.connect();
  try {
    const got = await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1, hashtext($2)) as ok", [LOCK_NAMESPACE, batchId]);
    if (!got.rows[0]?.ok) return undefined;
    try {
      return await fn();
    } finally {
      await client.query("select pg_advisory_unlock($1, hashtext($2))", [LOCK_NAMESPACE, batchId]);
    }
  } finally {
    client.release();
  }
}

export async function planBatch(deps: PlanDeps, msg: PlanBatchMessage, traceId?: string): Promise<PlanResult> {
  const res = await withPlannerLock(deps, msg.batchId, () => planLocked(deps, msg, traceId, true));
  // Another planner works on this batch right now; it (or the reconciler's next top-up) covers it.
  return res ?? { kind: "skipped", reason: "another planner holds the batch" };
}

/** Publishes the next window of a processing batch when less than half of it is outstanding (reconciler). */
export async function topUpBatch(deps: PlanDeps, batch: { batchId: string; tenantId: string }): Promise<PlanResult> {
  const res = await withPlannerLock(deps, batch.batchId, () => planLocked(deps, batch, undefined, false));
  return res ?? { kind: "skipped", reason: "another planner holds the batch" };
}

async function planLocked(deps: PlanDeps, msg: PlanBatchMessage, traceId: string | undefined, fromMessage: boolean): Promise<PlanResult> {
  const { db, log } = deps;
  const found = await db.query<PlanRow>(
    `select b.status, b.channel, sc.provider, sc.mode, sc.rate_limit_per_second, b.dry_run, b.plan_generation,
            b.plan_cursor, b.retry_requested_at, b.trace_id
       from batches b join send_configs sc on sc.id = b.send_config_id
      where b.id = $1 and b.tenant_id = $2`,
    [msg.batchId, msg.tenantId],
  );
  const batch = found.rows[0];
  if (!batch) return { kind: "skipped", reason: "batch not found for tenant" };
  if (msg.generation !== undefined && msg.generation < batch.plan_generation) {
    return { kind: "skipped", reason: `stale plan generation ${msg.generation} < ${batch.plan_generation}` };
  }
  if (batch.status === "queued") {
    await db.query(
      `update batches set status = 'processing', started_at = coalesce(started_at, now()), updated_at = now()
        where id = $1 and ${guardSql("planStart")}`,
      [msg.batchId],
    );
  } else if (batch.status !== "processing") {
    // paused, cancelled, completed, draft, scheduled, failed: nothing to plan; a resume publishes a new plan.
    return { kind: "skipped", reason: `batch is ${batch.status}` };
  }

  // A retry asked for more failed rows than the edge re-queued inline: the rest, in bounded pages, first.
  if (batch.retry_requested_at) {
    for (;;) {
      const n = await requeueFailedStep(db, msg.batchId, batch.retry_requested_at);
      deps.heartbeat?.();
      if (n < STEP_ROWS) break;
    }
    await db.query("update batches set retry_requested_at = null where id = $1 and retry_requested_at = $2", [msg.batchId, batch.retry_requested_at]);
  }

  const generation = batch.plan_generation;
  const cursor = Number(batch.plan_cursor);
  const window = windowRecipients(
    { provider: batch.provider, mode: batch.mode, rateLimitPerSecond: batch.rate_limit_per_second, dryRun: batch.dry_run },
    deps.region,
    deps.window ?? planWindowFromEnv(),
  );
  // Outstanding: rows this generation already published and that are not finished. At most one window.
  const out = await db.query<{ n: number }>(
    "select count(*)::int as n from recipients where batch_id = $1 and id <= $2 and status in ('queued', 'sending')",
    [msg.batchId, cursor],
  );
  const outstanding = out.rows[0]?.n ?? 0;
  if (!fromMessage && outstanding * 2 >= window) return { kind: "planned", recipients: 0, chunks: 0, completed: false };
  const size = CHUNK_SIZE[batch.provider];
  // Whole chunks only (a partial one only at the end of the batch): a top-up never splits the stream into
  // small chunks, so chunk count stays ~ recipients / chunk size however often it runs.
  const want = Math.max(0, Math.floor((window - outstanding) / size) * size);

  const subject = subjects.send(deps.region, batch.channel);
  const maxInFlight = deps.maxInFlight ?? 256;
  const h = natsHeaders();
  const trace = traceId ?? batch.trace_id ?? undefined;
  if (trace) h.set(TRACE_HEADER, trace);

  // Barrier: a row above the cursor that is `sending` under a live lease was claimed by an OLDER generation
  // (this one has not published it yet). If the window skipped it and its owner then released it (pause),
  // no chunk of this generation would ever cover it. So the window stops before it, and moves on once that
  // claim ends (recorded, released, or its lease expired).
  const barrier = want > 0
    ? await db.query<{ id: string | null }>(
        `select min(id) as id from recipients
          where batch_id = $1 and id > $2 and status = 'sending' and lease_until >= now()`,
        [msg.batchId, cursor],
      )
    : { rows: [] };
  const before = barrier.rows[0]?.id ? Number(barrier.rows[0].id) : Number.MAX_SAFE_INTEGER;
  const page = want > 0
    ? await db.query<{ id: string }>(
        `select id from recipients
          where batch_id = $1 and id > $2 and id < $4 and ${claimableSql()}
          order by id limit $3`,
        [msg.batchId, cursor, want, before],
      )
    : { rows: [] };
  const ids = page.rows.map((r) => Number(r.id));
  let inFlight: Promise<unknown>[] = [];
  let chunks = 0;
  for (const part of chunk(ids, size)) {
    const body: SendChunkMessage = { batchId: msg.batchId, tenantId: msg.tenantId, recipientIds: part, generation };
    inFlight.push(deps.js.publish(subject, JSON.stringify(body), { headers: h }));
    chunks++;
    if (inFlight.length >= maxInFlight) {
      await Promise.all(inFlight);
      inFlight = [];
      deps.heartbeat?.();
    }
  }
  await Promise.all(inFlight);
  if (ids.length > 0 || fromMessage) {
    await db.query(
      `update batches set plan_cursor = greatest(plan_cursor, $3), planned_at = now(), planned_by = $4
        where id = $1 and plan_generation = $2`,
      [msg.batchId, generation, ids[ids.length - 1] ?? 0, deploymentOf(deps)],
    );
  }

  // Nothing outstanding and nothing left to publish (all suppressed, cancelled or already done): complete.
  const completed = ids.length === 0 && outstanding === 0 && before === Number.MAX_SAFE_INTEGER ? await completeIfDone(db, msg.batchId) : false;
  if (ids.length > 0 || fromMessage || completed) {
    log.info({ batchId: msg.batchId, generation, recipients: ids.length, chunks, outstanding, window, completed }, "batch window planned");
  }
  return { kind: "planned", recipients: ids.length, chunks, completed };
}

/** Catalog handler (runner.ts does decode, trace, heartbeat, ack/nak/DLQ): plan, then ack after the publishes. */
export async function planMessage(deps: PlanDeps, ctx: JobContext, body: PlanBatchMessage): Promise<JobOutcome> {
  const res = await planBatch({ ...deps, log: ctx.log }, body, ctx.traceId);
  if (res.kind === "skipped") ctx.log.info({ reason: res.reason }, "plan skipped");
  return { kind: "ack" };
}

/**
 * Dead letter of a plan message: no chunk may exist for the batch's still-queued recipients, so they fail
 * with the reason (in bounded steps) and the batch completes, instead of staying `processing` forever.
 * Rows held by a live claim are left to it. A paused or cancelled batch is left alone (resume re-plans).
 */
export async function failPlannedBatch(deps: PlanDeps, ctx: JobContext, body: PlanBatchMessage, reason: string): Promise<{ failedRecipients: number }> {
  const started = await deps.db.query(
    `update batches set status = 'processing', started_at = coalesce(started_at, now()), updated_at = now()
      where id = $1 and tenant_id = $2 and status in ('queued', 'processing') returning id`,
    [body.batchId, body.tenantId],
  );
  if ((started.rowCount ?? 0) === 0) return { failedRecipients: 0 };
  const error = `planning gave up after ${ctx.deliveryCount} deliveries: ${reason}`.slice(0, 500);
  let failed = 0;
  for (;;) {
    const n = await failQueuedRecipients(deps.db, { batchId: body.batchId, error });
    failed += n;
    if (n === 0) break;
  }
  await completeIfDone(deps.db, body.batchId);
  ctx.log.warn({ failed, reason }, "plan dead-lettered; queued recipients failed");
  return { failedRecipients: failed };
}
