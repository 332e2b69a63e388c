/**
 * Every SQL statement on the send hot path (raw `pg`; drizzle's schema in core/db/schema.ts names the
 * columns). Each transition is guarded in SQL so a racing writer can never move a row backwards, and batch
 * counters change in the same statement as the recipient rows they count (DESIGN §3, §5).
 *
 * Counter meaning here: `queued` counts recipients not yet terminal (queued or sending); `sent`, `failed`,
 * `cancelled` count terminal rows. A batch completes exactly when sent+failed+suppressed+cancelled = total.
 */
import type { Pool, PoolClient } from "pg";

export type Db = Pick<Pool | PoolClient, "query">;

/** How long a claim holds rows; the sender extends it with each heartbeat while it still works on them. */
export const LEASE_SECONDS = 60;

export interface ClaimedRow {
  id: number;
  address: string;
  variables: Record<string, unknown>;
  attempts: number;
}

/**
 * Claims the chunk's claimable rows: `queued`, or `sending` whose lease expired (its owner died). Nothing is
 * claimed unless the batch is `processing`, so a paused or cancelled batch stops at the next chunk.
 */
export async function claimRecipients(db: Db, a: { batchId: string; ids: number[]; token: string }): Promise<ClaimedRow[]> {
  const { rows } = await db.query<ClaimedRow & { id: string }>(
    `update recipients
        set status = 'sending', claim_token = $3, lease_until = now() + make_interval(secs => $4),
            attempts = attempts + 1, updated_at = now()
      where id = any($2::bigint[]) and batch_id = $1
        and (status = 'queued' or (status = 'sending' and lease_until < now()))
        and exists (select 1 from batches where id = $1 and status = 'processing')
      returning id, address, variables, attempts`,
    [a.batchId, a.ids, a.token, LEASE_SECONDS],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) })).sort((x, y) => x.id - y.id);
}

/** Rows of the chunk that another live claim still holds, and when the last of those leases runs out. */
export async function heldElsewhere(db: Db, a: { batchId: string; ids: number[]; token: string }): Promise<{ count: number; msUntilExpiry: number }> {
  const { rows } = await db.query<{ n: number; ms: number | null }>(
    `select count(*)::int as n,
            (extract(epoch from max(lease_until) - now()) * 1000)::int as ms
       from recipients
      where id = any($2::bigint[]) and batch_id = $1 and status = 'sending'
        and claim_token is distinct from $3 and lease_until >= now()`,
    [a.batchId, a.ids, a.token],
  );
  return { count: rows[0]?.n ?? 0, msUntilExpiry: Math.max(0, rows[0]?.ms ?? 0) };
}

export async function extendLease(db: Db, a: { batchId: string; token: string }): Promise<void> {
  await db.query(
    `update recipients set lease_until = now() + make_interval(secs => $3)
      where batch_id = $1 and claim_token = $2 and status = 'sending'`,
    [a.batchId, a.token, LEASE_SECONDS],
  );
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

/**
 * Records final results and moves the batch counters in ONE statement, guarded by the claim token: a row
 * whose claim was lost (lease expired and someone else took it) is not written and not counted.
 */
export async function recordResults(db: Db, a: { batchId: string; token: string; results: FinalResult[] }): Promise<BatchCounters | undefined> {
  if (a.results.length === 0) return undefined;
  const { rows } = await db.query<BatchCounters>(
    `with input as (
       select * from unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) as t(id, status, pmid, err)
     ), r as (
       update recipients rc
          set status = input.status::recipient_status,
              provider_message_id = coalesce(input.pmid, rc.provider_message_id),
              last_error = input.err,
              sent_at = case when input.status = 'sent' then now() else rc.sent_at end,
              claim_token = null, lease_until = null, updated_at = now()
         from input
        where rc.id = input.id and rc.batch_id = $1 and rc.claim_token = $2 and rc.status = 'sending'
        returning rc.status
     )
     update batches
        set sent = sent + (select count(*) from r where status = 'sent'),
            failed = failed + (select count(*) from r where status = 'failed'),
            cancelled = cancelled + (select count(*) from r where status = 'cancelled'),
            queued = queued - (select count(*) from r),
            updated_at = now()
      where id = $1
      returning total, sent, failed, suppressed, cancelled, status`,
    [
      a.batchId,
      a.token,
      a.results.map((r) => r.id),
      a.results.map((r) => r.status),
      a.results.map((r) => r.providerMessageId ?? null),
      a.results.map((r) => r.error ?? null),
    ],
  );
  return rows[0];
}

/** Gives claimed, unsent rows back (`queued`, claim cleared) so any consumer can pick them up again. */
export async function releaseClaims(db: Db, a: { batchId: string; token: string; ids?: number[] }): Promise<number> {
  const res = await db.query(
    `update recipients set status = 'queued', claim_token = null, lease_until = null, updated_at = now()
      where batch_id = $1 and claim_token = $2 and status = 'sending'
        and ($3::bigint[] is null or id = any($3::bigint[]))`,
    [a.batchId, a.token, a.ids ?? null],
  );
  return res.rowCount ?? 0;
}

/** processing → completed, only when every recipient is terminal. Safe to call any number of times. */
export async function completeIfDone(db: Db, batchId: string): Promise<boolean> {
  const res = await db.query(
    `update batches set status = 'completed', completed_at = now(), updated_at = now()
      where id = $1 and status = 'processing' and sent + failed + suppressed + cancelled >= total`,
    [batchId],
  );
  return (res.rowCount ?? 0) > 0;
}

export function isDone(c: BatchCounters | undefined): boolean {
  return !!c && c.sent + c.failed + c.suppressed + c.cancelled >= c.total;
}
