/**
 * The reconciler (DESIGN §5.8, §5.9): nothing depends on every NATS message surviving. One owner: the
 * consumers. Every consumer runs `reconcileOnce` on a timer (`RECONCILE_INTERVAL_MS`, 1 s); a session advisory
 * lock per region lets exactly one of a region's consumers do a tick, the others skip, so overlapping runs are
 * harmless and a dead consumer's ticks are taken over by the next one. (The edge's Cron Trigger runs once a
 * minute and cannot hold a NATS publish loop; the consumers already own planning, so they own this too.)
 *
 * Each tick, for the batches homed in this region:
 * 1. windows: every `processing` batch planned through this deployment's NATS (`planned_by`) whose window is
 *    less than half full gets its next window published (plan.ts `topUpBatch`) — this is what continues
 *    windowed planning;
 * 2. stranded work: a `processing` batch with no progress (no result recorded, no window planned) for
 *    `RECONCILE_STALE_SECONDS` is re-planned under a new plan generation from the first id, so rows `queued`
 *    in no live chunk and rows `sending` past their lease are covered again; older chunks claim nothing. A
 *    `queued` batch whose plan message never arrived is planned. A stale batch with nothing left to send has
 *    its counters recounted and is completed;
 * 3. settling: a cancelled batch's remaining pending/queued rows become `cancelled` in bounded steps (cancel
 *    only flips the status), then rows abandoned in `sending`; then the counters are checked and recounted;
 * 4. every 30th tick, finished batches whose counters no longer add up are recounted (bounded id ranges).
 */
import type { Logger } from "pino";
import { countersAddUpSql } from "../../core/domain/batch-states";
import { ConfigError, ReconcileEnv } from "../config";
import { cancelAbandonedStep, cancelStep, hasUnfinishedRows, recountBatch, STEP_ROWS } from "./bounded-steps";
import { deploymentOf, planBatch, topUpBatch, type PlanDeps } from "./plan";
import { completeIfDone, LEASE_SECONDS } from "./recipient-store";

export interface ReconcileOptions {
  staleSeconds: number;
  intervalMs: number;
  /** Bounded steps one cancelled batch gets per tick (× STEP_ROWS rows). */
  settleStepsPerTick: number;
}

export type ReconcileDeps = PlanDeps & {
  reconcile?: Partial<ReconcileOptions>;
  /**
   * False while this process is still inside the quiet period after a database outage it observed (see
   * `startReconciler`): stale batches are not re-planned then. Absent: always true.
   */
  replanAllowed?: () => boolean;
};

/**
 * After an outage, wait this long with the database reachable before treating batches as stale. During an
 * outage no lease can be extended, so every live claim expires; once Postgres is back, the live holders
 * re-assert their leases (heartbeat every few seconds) and land their known outcomes (the recorder retries
 * them). Re-planning before that would let a new claim take rows whose provider outcome is known but not yet
 * recorded, and for SES (no idempotency key) that is a duplicate. A lease plus a margin covers both.
 */
export const OUTAGE_QUIET_MS = (LEASE_SECONDS + 15) * 1000;

export interface ReconcileReport {
  ran: boolean;
  toppedUp: number;
  replanned: string[];
  settled: string[];
  recounted: string[];
  cancelledRows: number;
}

export function parseReconcileOptions(env: Record<string, string | undefined>): ReconcileOptions {
  const res = ReconcileEnv.safeParse(env);
  if (!res.success) throw new ConfigError(`invalid reconciler configuration: ${res.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { intervalMs: res.data.RECONCILE_INTERVAL_MS, staleSeconds: res.data.RECONCILE_STALE_SECONDS, settleStepsPerTick: res.data.RECONCILE_SETTLE_STEPS };
}

const LOCK_NAMESPACE = 0x62_73_72_63; // "bsrc"
let ticks = 0;

export async function reconcileOnce(deps: ReconcileDeps): Promise<ReconcileReport> {
  const opts = { ...parseReconcileOptions(process.env), ...deps.reconcile };
  const report: ReconcileReport = { ran: false, toppedUp: 0, replanned: [], settled: [], recounted: [], cancelledRows: 0 };
  const client = await deps.db.connect();
  try {
    // One tick per region and deployment at a time; ticks of deployments sharing the database (test stacks)
    // may overlap, which every step below tolerates (guarded updates, SKIP LOCKED).
    const key = `${deps.region}|${deploymentOf(deps)}`;
    const got = await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1, hashtext($2)) as ok", [LOCK_NAMESPACE, key]);
    if (!got.rows[0]?.ok) return report;
    report.ran = true;
    try {
      await reconcileActive(deps, opts, report);
      await settleCancelled(deps, opts, report);
      if (ticks++ % 30 === 0) await recountDrifted(deps, report);
    } finally {
      await client.query("select pg_advisory_unlock($1, hashtext($2))", [LOCK_NAMESPACE, key]);
    }
  } finally {
    client.release();
  }
  return report;
}

async function reconcileActive(deps: ReconcileDeps, opts: ReconcileOptions, report: ReconcileReport): Promise<void> {
  const { db, log } = deps;
  const { rows } = await db.query<{ id: string; tenant_id: string; status: string; stale: boolean; ours: boolean }>(
    `select id, tenant_id, status::text as status,
            (coalesce(planned_at, queued_at, created_at) < now() - make_interval(secs => $2)
             and updated_at < now() - make_interval(secs => $2)) as stale,
            coalesce(planned_by = $3, false) as ours
       from batches
      where region = $1 and status in ('queued', 'processing')
      order by planned_at nulls first
      limit 500`,
    [deps.region, opts.staleSeconds, deploymentOf(deps)],
  );
  for (const b of rows) {
    const batch = { batchId: b.id, tenantId: b.tenant_id };
    if (b.status === "queued") {
      // Its plan message is on its way, unless it has been lost for a while.
      if (b.stale) {
        log.warn({ batchId: b.id }, "reconciler: queued batch never planned; planning it");
        await planBatch(deps, batch);
        report.replanned.push(b.id);
      }
      continue;
    }
    if (b.stale && deps.replanAllowed && !deps.replanAllowed()) continue;
    if (b.stale) {
      const bumped = await db.query<{ plan_generation: number }>(
        `update batches set plan_generation = plan_generation + 1, plan_cursor = 0, planned_at = now()
          where id = $1 and status = 'processing'
            and coalesce(planned_at, queued_at, created_at) < now() - make_interval(secs => $2)
            and updated_at < now() - make_interval(secs => $2)
          returning plan_generation`,
        [b.id, opts.staleSeconds],
      );
      if (!bumped.rows[0]) continue;
      log.warn({ batchId: b.id, generation: bumped.rows[0].plan_generation }, "reconciler: no progress; re-planning under a new generation");
      report.replanned.push(b.id);
      const res = await topUpBatch(deps, batch);
      if (res.kind === "planned" && res.recipients === 0 && !res.completed && !(await hasUnfinishedRows(db, b.id))) {
        // Nothing left to send yet not complete: the counters drifted. Recount (bounded) and complete.
        if (await recountBatch(db, b.id, "processing")) report.recounted.push(b.id);
        await completeIfDone(db, b.id);
      }
      continue;
    }
    // Windows are topped up by the deployment whose NATS holds them (a stale batch is taken over above).
    if (!b.ours) continue;
    const res = await topUpBatch(deps, batch);
    if (res.kind === "planned" && res.recipients > 0) report.toppedUp++;
  }
}

async function settleCancelled(deps: ReconcileDeps, opts: ReconcileOptions, report: ReconcileReport): Promise<void> {
  const { db, log } = deps;
  const { rows } = await db.query<{ id: string; status: string }>(
    "select id, status::text as status from batches where region = $1 and settle_pending order by updated_at limit 50",
    [deps.region],
  );
  for (const b of rows) {
    if (b.status !== "cancelled") {
      // Only cancel leaves work to settle today; anything else just clears the flag.
      await db.query("update batches set settle_pending = false where id = $1 and status = $2", [b.id, b.status]);
      continue;
    }
    let steps = 0;
    let n = STEP_ROWS;
    while (steps < opts.settleStepsPerTick && n === STEP_ROWS) {
      n = await cancelStep(db, b.id);
      report.cancelledRows += n;
      steps++;
    }
    if (n === STEP_ROWS) continue; // more next tick; other batches get their turn first
    report.cancelledRows += await cancelAbandonedStep(db, b.id);
    if (await hasUnfinishedRows(db, b.id)) continue; // skipped locked rows or live claims: next tick
    if (await recountBatch(db, b.id, "cancelled")) report.recounted.push(b.id);
    await db.query("update batches set settle_pending = false where id = $1 and status = 'cancelled'", [b.id]);
    report.settled.push(b.id);
    log.info({ batchId: b.id }, "reconciler: cancelled batch settled");
  }
}

async function recountDrifted(deps: ReconcileDeps, report: ReconcileReport): Promise<void> {
  const { rows } = await deps.db.query<{ id: string; status: string }>(
    `select id, status::text as status from batches
      where region = $1 and status in ('completed', 'cancelled') and not settle_pending
        and not (${countersAddUpSql()}) and updated_at > now() - interval '7 days'
      limit 20`,
    [deps.region],
  );
  for (const b of rows) {
    if (await hasUnfinishedRows(deps.db, b.id)) continue;
    if (await recountBatch(deps.db, b.id, b.status)) {
      report.recounted.push(b.id);
      deps.log.warn({ batchId: b.id }, "reconciler: counters of a finished batch did not add up; recounted");
    }
  }
}

/** Runs `reconcileOnce` every `RECONCILE_INTERVAL_MS` (no overlap within a process); `stop()` awaits the running tick. */
export function startReconciler(deps: ReconcileDeps): { stop(): Promise<void> } {
  const opts = { ...parseReconcileOptions(process.env), ...deps.reconcile };
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const log: Logger = deps.log;
  // 0 = no outage seen since start (re-planning allowed at once); otherwise when the last failed tick was
  // followed by a successful one (null while ticks still fail).
  let healthySince: number | null = 0;
  const replanAllowed = () => healthySince !== null && Date.now() - healthySince >= OUTAGE_QUIET_MS;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = reconcileOnce({ replanAllowed, ...deps })
      .then(() => {
        if (healthySince === null) healthySince = Date.now();
      })
      .catch((err) => {
        healthySince = null;
        log.warn({ err: (err as Error).message }, "reconcile tick failed; next tick retries");
      })
      .finally(() => (running = undefined));
  }, opts.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
