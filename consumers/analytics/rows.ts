/**
 * One row of the ClickHouse `events` table (migrations/clickhouse/0000_events.sql): a send result or a
 * provider event of one recipient. Validated before it is queued, so a malformed row is rejected on its own
 * and never reaches an insert with 9,999 good ones.
 */
import { z } from "zod";
import { CHANNELS, REGIONS } from "../../core/contract";

/** The funnel's steps, in order (queries.ts reports them all, zero when absent). */
export const FUNNEL_EVENTS = [
  "queued",
  "sent",
  "delivered",
  "opened",
  "clicked",
  "bounced",
  "complained",
  "failed",
  "suppressed",
] as const;
export const EVENT_TYPES = [...FUNNEL_EVENTS, "unsubscribed"] as const;
export type AnalyticsEventType = (typeof EVENT_TYPES)[number];

export const PROVIDERS = ["ses", "resend", "telnyx", "webhook"] as const;

const time = z.union([z.date(), z.string().datetime({ offset: true }), z.number().int().nonnegative()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: "custom", message: "invalid time" });
    return z.NEVER;
  }
  // DateTime64(3, 'UTC') reads 'YYYY-MM-DD hh:mm:ss.sss' in its default input format.
  return d.toISOString().replace("T", " ").replace("Z", "");
});

export const AnalyticsRow = z.object({
  tenant_id: z.uuid(),
  batch_id: z.uuid(),
  recipient_id: z.uuid(),
  time,
  event_type: z.enum(EVENT_TYPES),
  channel: z.enum(CHANNELS),
  provider: z.enum(PROVIDERS),
  region: z.enum(REGIONS),
  sending_domain: z.string().max(253).default(""),
  provider_message_id: z.string().max(512).default(""),
  /** Provider event id (or our own id for send results); the events consumer deduplicates on it before. */
  event_id: z.string().max(512).default(""),
  /** Bounce/failure/complaint reason, short (top-reasons groups by it). */
  reason: z.string().max(1000).default(""),
});
export type AnalyticsRowInput = z.input<typeof AnalyticsRow>;
export type AnalyticsRow = z.output<typeof AnalyticsRow>;
