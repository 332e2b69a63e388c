/**
 * Long operations on a batch in bounded steps (DESIGN §5.9): each statement touches at most `limit` rows and
 * moves the batch counters in the same statement, so no statement holds the batch row lock for more than a
 * few milliseconds and the group commit of results (result-recorder.ts) never waits behind a million-row
 * update. Lock order as everywhere: recipient rows first, then the batch row. `FOR UPDATE SKIP LOCKED`
 * lets a step skip rows a sender is writing right now (they are picked up by the next step).
 */
import { COUNTER_OF_RECIPIENT_STATUS, statusIn, UNFINISHED_RECIPIENT_STATES, CANCELLABLE_RECIPIENT_STATES } from "../../core/domain/batch-states";
import type { RecipientStatus } from "../../core/db/schema";
import type { Db } from "./recipient-store";

export const STEP_ROWS = 5000;

/** One step of a cancel: up to `limit` pending/queued rows → cancelled, counters in the same statement. */
export async function cancelStep(db: Db, batchId: string, limit = STEP_ROWS): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `with picked as (
       select id, status from recipients
        where batch_id = $1 and ${statusIn(CANCELLABLE_RECIPIENT_STATES)}
        order by id limit $2
        for update skip locked
     ), r as (
       update recipients set status = 'cancelled', last_error = 'batch cancelled', updated_at = now()
         from picked where recipients.id = picked.id
       returning picked.status as was
     ), b as (
       update batches set cancelled = cancelled + (select count(*) from r)::int,
                          queued = queued - (select count(*) from r where was = 'queued')::int,
                          updated_at = now()
        where id = $1 and (select count(*) from r) > 0
       returning 1
     )
     select (select count(*) from r)::int as n`,
    [batchId, limit],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Rows of a cancelled batch still `sending` whose lease expired: their sender died and nobody will claim them
 * again (claims need a processing batch). They become `cancelled`; the provider may or may not have taken
 * the call, which the reason says.
 */
export async function cancelAbandonedStep(db: Db, batchId: string, limit = STEP_ROWS): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `with picked as (
       select id from recipients
        where batch_id = $1 and status = 'sending' and lease_until < now()
        order by id limit $2
        for update skip locked
     ), r as (
       update recipients set status = 'cancelled', claim_token = null, lease_until = null,
                             last_error = 'batch cancelled; an interrupted send may have reached the provider',
                             updated_at = now()
         from picked where recipients.id = picked.id and recipients.status = 'sending'
       returning 1
     ), b as (
       update batches set cancelled = cancelled + (select count(*) from r)::int,
                          queued = queued - (select count(*) from r)::int, updated_at = now()
        where id = $1 and (select count(*) from r) > 0
       returning 1
     )
     select (select count(*) from r)::int as n`,
    [batchId, limit],
  );
  return rows[0]?.n ?? 0;
}

/**
 * One page of a retry: failed rows last changed before `asOf` (the retry request) → queued, counters in the
 * same statement. Rows that fail again during the retry are newer than `asOf` and stay failed.
 */
export async function requeueFailedStep(db: Db, batchId: string, asOf: Date, limit = STEP_ROWS): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `with picked as (
       select id from recipients
        where batch_id = $1 and status = 'failed' and updated_at <= $2
        order by id limit $3
        for update skip locked
     ), r as (
       update recipients set status = 'queued', attempts = 0, last_error = null, claim_token = null,
                             lease_until = null, updated_at = now()
         from picked where recipients.id = picked.id
       returning 1
     ), b as (
       update batches set failed = failed - (select count(*) from r)::int,
                          queued = queued + (select count(*) from r)::int, updated_at = now()
        where id = $1 and (select count(*) from r) > 0
       returning 1
     )
     select (select count(*) from r)::int as n`,
    [batchId, asOf, limit],
  );
  return rows[0]?.n ?? 0;
}

export async function hasUnfinishedRows(db: Db, batchId: string): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from recipients where batch_id = $1 and ${statusIn([...UNFINISHED_RECIPIENT_STATES, ...CANCELLABLE_RECIPIENT_STATES])} limit 1`,
    [batchId],
  );
  return rows.length > 0;
}

export interface Recount {
  sent: number;
  failed: number;
  suppressed: number;
  cancelled: number;
  queued: number;
}

/**
 * Counts a batch's rows by counter, in id ranges of `rangeIds` (each a short index range scan), and writes
 * the counters in one short statement guarded by `status = expectStatus`. Only called on batches with no
 * unfinished rows, whose rows no longer move between counters (events turn `sent` into `delivered` etc.,
 * which feed the same counter), so the sum of the ranges is exact. Returns whether anything changed.
 */
export async function recountBatch(db: Db, batchId: string, expectStatus: string, rangeIds = 50_000): Promise<boolean> {
  const bounds = await db.query<{ lo: string | null; hi: string | null }>(
    "select min(id) as lo, max(id) as hi from recipients where batch_id = $1",
    [batchId],
  );
  const lo = Number(bounds.rows[0]?.lo ?? 0);
  const hi = Number(bounds.rows[0]?.hi ?? -1);
  const c: Recount = { sent: 0, failed: 0, suppressed: 0, cancelled: 0, queued: 0 };
  for (let from = lo; from <= hi; from += rangeIds) {
    const { rows } = await db.query<{ status: RecipientStatus; n: number }>(
      "select status, count(*)::int as n from recipients where batch_id = $1 and id >= $2 and id < $3 group by status",
      [batchId, from, from + rangeIds],
    );
    for (const r of rows) {
      const counter = COUNTER_OF_RECIPIENT_STATUS[r.status];
      if (counter) c[counter] += r.n;
    }
  }
  const res = await db.query(
    `update batches set sent = $3, failed = $4, suppressed = $5, cancelled = $6, queued = $7, updated_at = now()
      where id = $1 and status = $2
        and (sent, failed, suppressed, cancelled, queued) is distinct from ($3, $4, $5, $6, $7)`,
    [batchId, expectStatus, c.sent, c.failed, c.suppressed, c.cancelled, c.queued],
  );
  return (res.rowCount ?? 0) > 0;
}
