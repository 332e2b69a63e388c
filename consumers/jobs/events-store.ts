/**
 * The events consumer's SQL (raw `pg`, like recipient-store.ts). Two statements per flush:
 *
 * 1. `insertEvents`: every received event into `provider_events`, `on conflict do nothing` — the dedupe by
 *    (provider, event id). Events without a provider message id (STOP/START replies, unknown types) are
 *    stored already applied.
 * 2. `applyPendingEvents`: every pending event whose recipient now carries its provider message id (within
 *    the event's tenant when it names one), applied in ONE statement: recipient status by rank and fact bits
 *    (core/domain/recipient-events.ts), batch counters of the touched batches, suppressions for hard bounces
 *    and complaints, and the events marked applied. Events whose send result is not recorded yet match no
 *    row and stay pending; the result recorder calls this again with the ids it just wrote, and the events
 *    job sweeps all pending events periodically, so none is ever dropped.
 *
 * (Data-modifying CTEs run to completion whether or not the final select reads them.)
 * Lock order as everywhere: provider_events rows, recipient rows (by id), then batch rows (by id).
 */
import type { ProviderEventMessage } from "../../core/contract";
import { statusIn } from "../../core/domain/batch-states";
import { CURRENT_RANK_SQL, EVENT_FACT, EVENT_FACT_SQL, EVENT_RANK_SQL, EVENT_TARGET_STATES, STATUS_OF_RANK_SQL } from "../../core/domain/recipient-events";
import type { Db } from "./recipient-store";

/** Inserts the events; returns the keys (`provider:eventId`) that were new (not duplicates). */
export async function insertEvents(db: Db, events: ProviderEventMessage[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
  for (const e of events) {
    cols[0]!.push(e.provider);
    cols[1]!.push(e.eventId);
    cols[2]!.push(e.tenantId ?? null);
    cols[3]!.push(e.providerMessageId ?? null);
    cols[4]!.push(e.type);
    cols[5]!.push(e.bounceType ?? null);
    cols[6]!.push(e.reason ?? null);
    cols[7]!.push(Number.isNaN(Date.parse(e.occurredAt)) ? e.receivedAt : e.occurredAt);
    cols[8]!.push(JSON.stringify(e));
    // Nothing to match: stored applied (the dedupe still holds for them).
    cols[9]!.push(e.providerMessageId ? null : new Date().toISOString());
  }
  const { rows } = await db.query<{ provider: string; event_id: string }>(
    `insert into provider_events (provider, event_id, tenant_id, provider_message_id, type, bounce_type, reason, occurred_at, payload, applied_at)
     select distinct on (t.provider, t.event_id) t.*
       from unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::jsonb[], $10::timestamptz[])
         as t(provider, event_id, tenant_id, provider_message_id, type, bounce_type, reason, occurred_at, payload, applied_at)
     on conflict (provider, event_id) do nothing
     returning provider, event_id`,
    cols,
  );
  return new Set(rows.map((r) => `${r.provider}:${r.event_id}`));
}

const TARGETS = statusIn(EVENT_TARGET_STATES, "r.status");
const BOUNCE_BITS = EVENT_FACT.hardBounce | EVENT_FACT.softBounce;

export interface AppliedEvent {
  provider: string;
  eventId: string;
  type: string;
  recipientId: number;
  batchId: string;
  tenantId: string;
}

/**
 * Applies pending events whose recipient is known: those of `providerMessageIds`, or any (sweep) when null.
 * Returns what it applied (at most `limit` events), for analytics.
 */
export async function applyPendingEvents(db: Db, providerMessageIds: string[] | null, limit = 20_000): Promise<AppliedEvent[]> {
  const { rows } = await db.query<{ provider: string; event_id: string; type: string; rid: string; batch_id: string; tenant_id: string }>(
    `with ev as (
       select e.provider, e.event_id, e.type, e.bounce_type, r.id as rid,
              ${EVENT_RANK_SQL} as rank, ${EVENT_FACT_SQL} as fact
         from provider_events e
         join recipients r on r.provider_message_id = e.provider_message_id
                          and (e.tenant_id is null or r.tenant_id = e.tenant_id)
        where e.applied_at is null and e.provider_message_id is not null
          and ($1::text[] is null or e.provider_message_id = any($1::text[]))
          and ${TARGETS}
        order by e.provider, e.event_id
        limit $2
        for update of e skip locked
     ), agg as (
       select rid, bit_or(fact) as facts, max(rank) as rank, (array_agg(type order by rank desc, type))[1] as top_type
         from ev group by rid
     ), cur as (
       select r.id, r.batch_id, r.tenant_id, r.address, r.status as old_status, r.event_facts as old_facts, ${CURRENT_RANK_SQL} as old_rank
         from recipients r where r.id in (select rid from agg) order by r.id for update of r
     ), upd as (
       update recipients r
          set event_facts = r.event_facts | agg.facts,
              status = case when agg.rank > cur.old_rank then ${STATUS_OF_RANK_SQL("agg.rank", "agg.top_type")} else r.status end,
              bounce_type = case when agg.rank > cur.old_rank
                                 then (case when agg.rank = 1 then 'soft' when agg.rank = 5 and agg.top_type = 'bounced' then 'hard' end)
                                 else r.bounce_type end,
              updated_at = now()
         from agg join cur on cur.id = agg.rid
        where r.id = agg.rid
        returning r.id, r.status as new_status, r.event_facts as new_facts
     ), per_batch as (
       select c.batch_id,
              count(*) filter (where c.old_facts & ${EVENT_FACT.delivered} = 0 and u.new_facts & ${EVENT_FACT.delivered} <> 0) as delivered,
              count(*) filter (where c.old_facts & ${EVENT_FACT.opened} = 0 and u.new_facts & ${EVENT_FACT.opened} <> 0) as opened,
              count(*) filter (where c.old_facts & ${EVENT_FACT.clicked} = 0 and u.new_facts & ${EVENT_FACT.clicked} <> 0) as clicked,
              count(*) filter (where c.old_facts & ${BOUNCE_BITS} = 0 and u.new_facts & ${BOUNCE_BITS} <> 0) as bounced,
              count(*) filter (where c.old_facts & ${EVENT_FACT.complained} = 0 and u.new_facts & ${EVENT_FACT.complained} <> 0) as complained,
              count(*) filter (where u.new_status = 'failed' and c.old_status <> 'failed') as newly_failed
         from cur c join upd u on u.id = c.id
        group by c.batch_id
     ), locked as (
       select b.id from batches b where b.id in (select batch_id from per_batch) order by b.id for update of b
     ), counted as (
       update batches b
          set delivered = b.delivered + p.delivered, opened = b.opened + p.opened, clicked = b.clicked + p.clicked,
              bounced = b.bounced + p.bounced, complained = b.complained + p.complained,
              sent = b.sent - p.newly_failed, failed = b.failed + p.newly_failed, updated_at = now()
         from per_batch p join locked l on l.id = p.batch_id
        where b.id = p.batch_id
        returning b.id
     ), supp as (
       insert into suppressions (tenant_id, mode, channel, address, reason, source)
       select distinct on (c.tenant_id, bt.mode, bt.channel, c.address)
              c.tenant_id, bt.mode, bt.channel, c.address,
              case when ev.type = 'complained' then 'complaint' else 'hard_bounce' end,
              ev.provider || ':' || ev.event_id
         from ev join cur c on c.id = ev.rid join batches bt on bt.id = c.batch_id
        where ev.type = 'complained' or (ev.type = 'bounced' and ev.bounce_type = 'hard')
        order by c.tenant_id, bt.mode, bt.channel, c.address, ev.type desc
       on conflict (tenant_id, mode, channel, address) do nothing
       returning 1
     ), done as (
       update provider_events e set applied_at = now(), recipient_id = ev.rid
         from ev where e.provider = ev.provider and e.event_id = ev.event_id
       returning 1
     )
     select ev.provider, ev.event_id, ev.type, ev.rid, c.batch_id, c.tenant_id
       from ev join cur c on c.id = ev.rid`,
    [providerMessageIds, limit],
  );
  return rows.map((r) => ({ provider: r.provider, eventId: r.event_id, type: r.type, recipientId: Number(r.rid), batchId: r.batch_id, tenantId: r.tenant_id }));
}

/**
 * SMS STOP: the number is suppressed for every tenant that texted it (Telnyx blocks the number for the whole
 * messaging profile, so this mirrors the provider); START removes only suppressions a STOP created.
 */
export async function applyOptOut(db: Db, e: { type: "stop" | "start"; address: string; source: string }): Promise<number> {
  if (e.type === "start") {
    const res = await db.query(`delete from suppressions where channel = 'sms' and address = $1 and reason = 'stop'`, [e.address]);
    return res.rowCount ?? 0;
  }
  const res = await db.query(
    `insert into suppressions (tenant_id, mode, channel, address, reason, source)
     select distinct r.tenant_id, b.mode, 'sms'::channel, r.address, 'stop', $2
       from recipients r join batches b on b.id = r.batch_id
      where r.address = $1 and b.channel = 'sms' and r.provider_message_id is not null
     on conflict (tenant_id, mode, channel, address) do nothing`,
    [e.address, e.source],
  );
  return res.rowCount ?? 0;
}
