/**
 * How provider events move a recipient after its send (DESIGN §3, §8), as one rule both the consumers' SQL
 * and the tests use. Events arrive duplicated and out of order, so nothing here depends on order:
 *
 * - Status is a rank; an event moves a row only UP: sent(0) < bounced soft(1) < delivered(2) < opened(3) <
 *   clicked(4) < bounced hard / SMS failed(5) < complained(6). So a late `delivered` never overwrites a hard
 *   bounce, a delivery after a soft bounce (the retry worked) does, and a complaint beats everything.
 * - Facts are bits set once per recipient (`recipients.event_facts`); each batch counter of events
 *   (`delivered`, `opened`, `clicked`, `bounced`, `complained`) moves when its bit is first set, so the counters
 *   are exact under duplicates and reordering, and an open that arrives before its delivery still counts both.
 * - An SMS delivery failure after `sent` is a failure: the row becomes `failed`, `sent - 1`, `failed + 1` in
 *   the same statement, so the completion rule (sent + failed + suppressed + cancelled = total) still holds.
 *
 * Edge-safe: no node:* imports.
 */
import type { ProviderEventType } from "../contract";

export const EVENT_FACT = { delivered: 1, opened: 2, clicked: 4, hardBounce: 8, complained: 16, softBounce: 32, smsFailed: 64 } as const;

/** Rows an event may move: already sent (they carry the provider message id) and not failed at send. */
export const EVENT_TARGET_STATES = ["sent", "delivered", "bounced", "complained", "opened", "clicked", "failed"] as const;

export interface EventEffect {
  /** -1: no status change (sent, other, stop, start). */
  rank: number;
  fact: number;
}

/** What one event does to its recipient; `channel` tells an SMS failure from an email one. */
export function eventEffect(type: ProviderEventType, bounceType?: "hard" | "soft"): EventEffect {
  switch (type) {
    case "delivered":
      return { rank: 2, fact: EVENT_FACT.delivered };
    case "opened":
      return { rank: 3, fact: EVENT_FACT.opened };
    case "clicked":
      return { rank: 4, fact: EVENT_FACT.clicked };
    case "bounced":
      return bounceType === "hard" ? { rank: 5, fact: EVENT_FACT.hardBounce } : { rank: 1, fact: EVENT_FACT.softBounce };
    case "complained":
      return { rank: 6, fact: EVENT_FACT.complained };
    case "failed":
      return { rank: 5, fact: EVENT_FACT.smsFailed };
    default:
      return { rank: -1, fact: 0 };
  }
}

/** The SQL status a winning (rank, event type) stands for: rank 5 is `failed` for a failure, else a hard bounce. */
export const STATUS_OF_RANK_SQL = (rank: string, type: string) => `(case
  when ${rank} = 1 then 'bounced' when ${rank} = 2 then 'delivered' when ${rank} = 3 then 'opened'
  when ${rank} = 4 then 'clicked' when ${rank} = 5 and ${type} = 'failed' then 'failed' when ${rank} = 5 then 'bounced'
  when ${rank} = 6 then 'complained' end)::recipient_status`;

/** The rank of a row's current status, as SQL over the `recipients` columns (alias `r`). */
export const CURRENT_RANK_SQL = `(case r.status
  when 'sent' then 0 when 'delivered' then 2 when 'opened' then 3 when 'clicked' then 4
  when 'bounced' then (case when r.bounce_type = 'soft' then 1 else 5 end)
  when 'failed' then 5 when 'complained' then 6 else -1 end)`;

/** The rank and fact bit of an event row (alias `e`: provider_events columns `type`, `bounce_type`). */
export const EVENT_RANK_SQL = `(case e.type
  when 'delivered' then 2 when 'opened' then 3 when 'clicked' then 4
  when 'bounced' then (case when e.bounce_type = 'hard' then 5 else 1 end)
  when 'complained' then 6 when 'failed' then 5 else -1 end)`;

export const EVENT_FACT_SQL = `(case e.type
  when 'delivered' then ${EVENT_FACT.delivered} when 'opened' then ${EVENT_FACT.opened} when 'clicked' then ${EVENT_FACT.clicked}
  when 'bounced' then (case when e.bounce_type = 'hard' then ${EVENT_FACT.hardBounce} else ${EVENT_FACT.softBounce} end)
  when 'complained' then ${EVENT_FACT.complained} when 'failed' then ${EVENT_FACT.smsFailed} else 0 end)`;
