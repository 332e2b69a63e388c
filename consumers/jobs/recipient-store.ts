/**
 * Every SQL statement on the send hot path (raw `pg`; drizzle's schema in core/db/schema.ts names the
 * columns). Each transition is guarded in SQL so a racing writer can never move a row backwards, and batch
 * counters change in the same statement as the recipient rows they count (DESIGN §3, §5).
 *
 * Counter meaning here: `queued` counts recipients not yet terminal (queued or sending); `sent`, `failed`,
 * `cancelled` count terminal rows. A batch completes exactly when sent+failed+suppressed+cancelled = total.
 */
import type { Pool, PoolClient } from "pg";
import { claimableSql, completionSql, isBatchDone } from "../../core/domain/batch-states";
import { LIMITS } from "../../core/domain/limits";

export type Db = Pick<Pool | PoolClient, "query">;

// Every statement below is named (`{ name, text, values }`): Postgres parses and plans it once per connection
// instead of on every call (parse/plan was ~40% of Postgres's CPU per send with unnamed statements). A name
// always carries the same text.

/** How long a claim holds rows; the sender extends it with each heartbeat while it still works on them. */
export const LEASE_SECONDS = 60;

const CLAIMABLE_R = claimableSql("r");

/** One chunk's claim: its rows, the claim token, and the plan generation it was published in (if any). */
export interface ClaimScope {
  batchId: string;
  ids: number[];
  token: string;
  generation?: number;
}

export interface ClaimedRow {
  id: number;
  address: string;
  variables: Record<string, unknown>;
  attempts: number;
  /**
   * Set when the stored variables are far over the cap (`CLAIM_VARIABLES_BYTES` as Postgres prints them): they
   * were not loaded (`variables` is empty) and the recipient is failed with the size as its reason.
   */
  oversizedBytes?: number;
}

/**
 * The claim does not load variables larger than this (Postgres's text form, which is never smaller than
 * `JSON.stringify` and less than twice it): a row written around the creation caps (a 50-recipient chunk of
 * 8 MiB each would be 400 MB in one claim) is failed without being read. Rows between the cap and this are
 * loaded and refused exactly by `variablesProblem` when rendered.
 */
export const CLAIM_VARIABLES_BYTES = 2 * LIMITS.variablesBytes;

/**
 * Claims the chunk's claimable rows: `queued`, or `sending` whose lease expired (its owner died). Nothing is
 * claimed unless the batch is `processing` and, when the chunk names a plan generation, the batch is still in
 * it: a chunk planned before a resume or re-plan claims nothing (its rows are in the current generation's
 * chunks), so pause/resume loops cannot multiply work.
 *
 * Suppressions are checked here, at claim time, not only at insert (an address may be suppressed after the
 * batch was created or scheduled): such rows become `suppressed` in the same statement, with the batch
 * counters, and are not returned, so no provider call is made for them. Lock order as in
 * `recordResultsGrouped`: recipient rows first, then the batch row.
 */
export async function claimRecipients(db: Db, a: ClaimScope): Promise<ClaimedRow[]> {
  const { rows } = await db.query<ClaimedRow & { id: string; suppressed_n: number; oversized_bytes: number | null }>({
    name: "bs_claim",
    text: `with b as (
       select channel, mode from batches
        where id = $1 and status = 'processing' and ($5::int is null or plan_generation = $5)
     ), c as (
       select r.id,
              (select s.reason from suppressions s
                where s.tenant_id = r.tenant_id and s.mode = (select mode from b) and s.channel = (select channel from b)
                  and s.address = r.address) as supp,
              octet_length(r.variables::text) as vbytes
         from recipients r
        where r.id = any($2::bigint[]) and r.batch_id = $1 and exists (select 1 from b)
          and ${CLAIMABLE_R}
     ), u as (
       update recipients r
          set status = (case when c.supp is null then 'sending' else 'suppressed' end)::recipient_status,
              claim_token = case when c.supp is null then $3::uuid end,
              lease_until = case when c.supp is null then now() + make_interval(secs => $4) end,
              attempts = r.attempts + (case when c.supp is null then 1 else 0 end),
              last_error = case when c.supp is null then r.last_error else 'suppressed: ' || c.supp end,
              updated_at = now()
         from c
        where r.id = c.id and ${CLAIMABLE_R}
        returning r.id, r.address, case when c.vbytes > $6 then null else r.variables end as variables,
                  case when c.vbytes > $6 then c.vbytes end as oversized_bytes, r.attempts, c.supp is not null as is_suppressed
     ), counted as (
       update batches set suppressed = suppressed + n.k, queued = queued - n.k, updated_at = now()
         from (select count(*)::int as k from u where is_suppressed) n
        where batches.id = $1 and n.k > 0
       returning n.k
     )
     select u.id, u.address, u.variables, u.oversized_bytes, u.attempts, coalesce((select k from counted), 0) as suppressed_n
       from u where not u.is_suppressed
     union all
     select null, null, null, null, null, k from counted where not exists (select 1 from u where not u.is_suppressed)`,
    values: [a.batchId, a.ids, a.token, LEASE_SECONDS, a.generation ?? null, CLAIM_VARIABLES_BYTES],
  });
  const suppressed = rows[0]?.suppressed_n ?? 0;
  if (suppressed > 0) await completeIfDone(db, a.batchId);
  return rows
    .filter((r) => r.id !== null)
    .map(({ suppressed_n: _s, oversized_bytes, ...r }) =>
      oversized_bytes === null || oversized_bytes === undefined ? { ...r, id: Number(r.id) } : { ...r, id: Number(r.id), variables: {}, oversizedBytes: oversized_bytes },
    )
    .sort((x, y) => x.id - y.id);
}

/** Rows of the chunk that another live claim still holds, and when the last of those leases runs out. */
export async function heldElsewhere(db: Db, a: ClaimScope): Promise<{ count: number; msUntilExpiry: number }> {
  const { rows } = await db.query<{ n: number; ms: number | null }>({
    name: "bs_held_elsewhere",
    text: `select count(*)::int as n,
            (extract(epoch from max(lease_until) - now()) * 1000)::int as ms
       from recipients
      where id = any($2::bigint[]) and batch_id = $1 and status = 'sending'
        and claim_token is distinct from $3 and lease_until >= now()
        -- a chunk of an older plan generation waits for nobody: the current generation covers its rows
        and ($4::int is null or exists (select 1 from batches where id = $1 and plan_generation = $4))`,
    values: [a.batchId, a.ids, a.token, a.generation ?? null],
  });
  return { count: rows[0]?.n ?? 0, msUntilExpiry: Math.max(0, rows[0]?.ms ?? 0) };
}

export async function extendLease(db: Db, a: { batchId: string; token: string }): Promise<void> {
  await db.query({
    name: "bs_extend_lease",
    text: `update recipients set lease_until = now() + make_interval(secs => $3)
      where batch_id = $1 and claim_token = $2 and status = 'sending'`,
    values: [a.batchId, a.token, LEASE_SECONDS],
  });
}

export interface FinalResult {
  id: number;
  status: "sent" | "failed" | "cancelled";
  providerMessageId?: string;
  error?: string;
}

export interface BatchCounters {
  total: number;
  sent: number;
  failed: number;
  suppressed: number;
  cancelled: number;
  status: string;
}

/** One caller's results: the rows of one claim (token) in one batch. */
export interface ResultEntry {
  batchId: string;
  token: string;
  results: FinalResult[];
}

/** The grouped statement's parameters: one array per column, one element per result row (pure, unit-tested). */
export function resultColumns(entries: ResultEntry[]): [number[], string[], string[], string[], (string | null)[], (string | null)[]] {
  const cols: ReturnType<typeof resultColumns> = [[], [], [], [], [], []];
  for (const e of entries) {
    for (const r of e.results) {
      cols[0].push(r.id);
      cols[1].push(e.batchId);
      cols[2].push(e.token);
      cols[3].push(r.status);
      cols[4].push(r.providerMessageId ?? null);
      cols[5].push(r.error ?? null);
    }
  }
  return cols;
}

/**
 * Records final results of any number of claims, in any number of batches, and moves the counters of every
 * batch touched, in ONE statement. Each row is guarded by its own claim token and `status = 'sending'`: a row
 * whose claim was lost (lease expired and someone else took it) is not written and not counted. Returns the
 * counters of every batch named in `entries` (also when none of its rows could be written), keyed by id.
 *
 * Lock order, so concurrent statements from several consumers cannot deadlock: recipient rows first (`r`,
 * disjoint between claims), then batch rows in id order (`locked`, which cannot start before `x` has
 * consumed all of `r`); `control-batch.ts` takes a batch lock and then only `pending`/`queued` rows.
 */
export async function recordResultsGrouped(db: Db, entries: ResultEntry[]): Promise<Map<string, BatchCounters>> {
  const counters = new Map<string, BatchCounters>();
  if (!entries.some((e) => e.results.length > 0)) return counters;
  const { rows } = await db.query<BatchCounters & { batch_id: string }>({
    name: "bs_record_results",
    text: `with input as (
       select * from unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
         as t(id, batch_id, token, status, pmid, err)
     ), r as (
       update recipients rc
          set status = input.status::recipient_status,
              provider_message_id = coalesce(input.pmid, rc.provider_message_id),
              last_error = input.err,
              sent_at = case when input.status = 'sent' then now() else rc.sent_at end,
              claim_token = null, lease_until = null, updated_at = now()
         from input
        where rc.id = input.id and rc.batch_id = input.batch_id and rc.claim_token = input.token
          and rc.status = 'sending'
        returning rc.batch_id, rc.status
     ), x as (
       select i.batch_id,
              count(r.status) filter (where r.status = 'sent') as sent,
              count(r.status) filter (where r.status = 'failed') as failed,
              count(r.status) filter (where r.status = 'cancelled') as cancelled,
              count(r.status) as done
         from (select distinct batch_id from input) i left join r on r.batch_id = i.batch_id
        group by i.batch_id
     ), locked as (
       select b.id from batches b where b.id in (select batch_id from x) order by b.id for update of b
     )
     update batches b
        set sent = b.sent + x.sent,
            failed = b.failed + x.failed,
            cancelled = b.cancelled + x.cancelled,
            queued = b.queued - x.done,
            updated_at = now()
       from x join locked l on l.id = x.batch_id
      where b.id = x.batch_id
      returning b.id as batch_id, b.total, b.sent, b.failed, b.suppressed, b.cancelled, b.status`,
    values: resultColumns(entries),
  });
  for (const { batch_id, ...c } of rows) counters.set(batch_id, c);
  return counters;
}

/** The same statement for one claim's results (rare paths: config errors, dead letters). */
export async function recordResults(db: Db, a: ResultEntry): Promise<BatchCounters | undefined> {
  if (a.results.length === 0) return undefined;
  return (await recordResultsGrouped(db, [a])).get(a.batchId);
}

/** Gives claimed, unsent rows back (`queued`, claim cleared) so any consumer can pick them up again. */
export async function releaseClaims(db: Db, a: { batchId: string; token: string; ids?: number[] }): Promise<number> {
  const res = await db.query({
    name: "bs_release_claims",
    text: `update recipients set status = 'queued', claim_token = null, lease_until = null, updated_at = now()
      where batch_id = $1 and claim_token = $2 and status = 'sending'
        and ($3::bigint[] is null or id = any($3::bigint[]))`,
    values: [a.batchId, a.token, a.ids ?? null],
  });
  return res.rowCount ?? 0;
}

/**
 * processing → completed, only when every recipient is terminal (and no retry still has failed rows to
 * re-queue). Safe to call any number of times.
 */
export async function completeIfDone(db: Db, batchId: string): Promise<boolean> {
  const res = await db.query({
    name: "bs_complete_if_done",
    text: `update batches set status = 'completed', completed_at = now(), updated_at = now()
      where id = $1 and status = 'processing' and retry_requested_at is null and ${completionSql()}`,
    values: [batchId],
  });
  return (res.rowCount ?? 0) > 0;
}

export function isDone(c: BatchCounters | undefined): boolean {
  return isBatchDone(c);
}

/** Rows this claim holds (`sending` under `token`): what an earlier run of the same delivery claimed. */
export async function claimedBy(db: Db, a: { batchId: string; token: string }): Promise<ClaimedRow[]> {
  const { rows } = await db.query<ClaimedRow & { id: string }>({
    name: "bs_claimed_by",
    text: `select id, address, variables, attempts from recipients
      where batch_id = $1 and claim_token = $2 and status = 'sending'`,
    values: [a.batchId, a.token],
  });
  return rows.map((r) => ({ ...r, id: Number(r.id) })).sort((x, y) => x.id - y.id);
}

/**
 * Re-asserts a claim after its lease may have run out: extends the lease of the rows this token still holds
 * and answers their ids. A row another consumer took over meanwhile is not returned (and not touched).
 */
export async function reassertClaim(db: Db, a: { batchId: string; token: string; ids: number[] }): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>({
    name: "bs_reassert_claim",
    text: `update recipients set lease_until = now() + make_interval(secs => $4)
      where batch_id = $1 and claim_token = $2 and status = 'sending' and id = any($3::bigint[])
      returning id`,
    values: [a.batchId, a.token, a.ids, LEASE_SECONDS],
  });
  return rows.map((r) => Number(r.id));
}

/**
 * Fails up to `limit` of a batch's recipients that are still `queued` (no claim holds them), with the
 * reason, and moves the counters in the same statement. Bounded: the caller loops until it returns 0.
 */
export async function failQueuedRecipients(db: Db, a: { batchId: string; error: string; limit?: number }): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `with f as (
       update recipients set status = 'failed', last_error = $2, updated_at = now()
        where id in (select id from recipients where batch_id = $1 and status = 'queued' order by id limit $3 for update skip locked)
          and status = 'queued'
        returning id
     ), b as (
       update batches set failed = failed + (select count(*) from f), queued = queued - (select count(*) from f), updated_at = now()
        where id = $1 and (select count(*) from f) > 0
     )
     select count(*)::int as n from f`,
    [a.batchId, a.error, a.limit ?? 5000],
  );
  return rows[0]?.n ?? 0;
}

/** Marks the rows of one multi-recipient provider call with its group, before the call (schema: `call_group`). */
export async function markCallGroup(db: Db, a: { batchId: string; token: string; ids: number[]; group: string }): Promise<void> {
  await db.query({
    name: "bs_mark_call_group",
    text: `update recipients set call_group = $4
      where batch_id = $1 and claim_token = $2 and status = 'sending' and id = any($3::bigint[])`,
    values: [a.batchId, a.token, a.ids, a.group],
  });
}

/** The call groups some of `ids` were sent in before (outcome never recorded), by row id. */
export async function priorCallGroups(db: Db, a: { batchId: string; ids: number[] }): Promise<Map<number, string>> {
  const { rows } = await db.query<{ id: string; call_group: string }>({
    name: "bs_prior_call_groups",
    text: `select id, call_group from recipients where batch_id = $1 and id = any($2::bigint[]) and call_group is not null`,
    values: [a.batchId, a.ids],
  });
  return new Map(rows.map((r) => [Number(r.id), r.call_group]));
}

/** Every row of one earlier call, whatever its state now, so the call can be rebuilt exactly. */
export async function rowsOfCallGroup(db: Db, a: { batchId: string; group: string }): Promise<ClaimedRow[]> {
  const { rows } = await db.query<ClaimedRow & { id: string }>({
    name: "bs_rows_of_call_group",
    text: `select id, address, variables, attempts from recipients where batch_id = $1 and call_group = $2 order by id`,
    values: [a.batchId, a.group],
  });
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
