/**
 * Analytics reads, all from the rollups (events_minute, event_reasons_daily), never from the raw events table
 * or Postgres: a batch of 1,000,000 recipients is a few hundred rollup rows. Every query is scoped to one
 * tenant and bound with server-side parameters. Rollups merge eventually, so every read sums.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { FUNNEL_EVENTS } from "./rows";

export type FunnelStep = (typeof FUNNEL_EVENTS)[number];
export type FunnelCounts = Record<FunnelStep, number>;

export interface BatchFunnel {
  counts: FunnelCounts;
  /**
   * Rates in [0, 1], 0 when the denominator is 0: delivered, bounced and failed per sent; opened, clicked and
   * complained per delivered; suppressed per queued.
   */
  rates: { delivered: number; opened: number; clicked: number; bounced: number; complained: number; failed: number; suppressed: number };
}

export type Interval = "minute" | "hour" | "day";

/** ClickHouse returns UInt64 as strings in JSON by default; a server may be configured otherwise. */
const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));

const emptyCounts = (): FunnelCounts => Object.fromEntries(FUNNEL_EVENTS.map((k) => [k, 0])) as FunnelCounts;

function countsFrom(rows: { event_type: string; events: unknown }[]): FunnelCounts {
  const counts = emptyCounts();
  for (const r of rows) if (r.event_type in counts) counts[r.event_type as FunnelStep] += num(r.events);
  return counts;
}

const rate = (n: number, d: number) => (d > 0 ? n / d : 0);

export function funnelRates(c: FunnelCounts): BatchFunnel["rates"] {
  return {
    delivered: rate(c.delivered, c.sent),
    opened: rate(c.opened, c.delivered),
    clicked: rate(c.clicked, c.delivered),
    bounced: rate(c.bounced, c.sent),
    complained: rate(c.complained, c.delivered),
    failed: rate(c.failed, c.sent),
    suppressed: rate(c.suppressed, c.queued),
  };
}

async function rows<T>(ch: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  const rs = await ch.query({ query, query_params: params, format: "JSONEachRow" });
  return rs.json<T>();
}

export async function batchFunnel(ch: ClickHouseClient, tenantId: string, batchId: string): Promise<BatchFunnel> {
  const r = await rows<{ event_type: string; events: unknown }>(
    ch,
    `SELECT event_type, sum(events) AS events FROM events_minute
     WHERE tenant_id = {tenant:UUID} AND batch_id = {batch:UUID}
     GROUP BY event_type`,
    { tenant: tenantId, batch: batchId },
  );
  const counts = countsFrom(r);
  return { counts, rates: funnelRates(counts) };
}

export interface RangeFilter {
  tenantId: string;
  from: Date;
  to: Date;
  batchId?: string;
}

function rangeWhere(f: RangeFilter, timeColumn: string): { where: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {
    tenant: f.tenantId,
    from: Math.floor(f.from.getTime() / 1000),
    to: Math.floor(f.to.getTime() / 1000),
  };
  let where = `tenant_id = {tenant:UUID} AND ${timeColumn} >= toDateTime({from:UInt32}, 'UTC') AND ${timeColumn} < toDateTime({to:UInt32}, 'UTC')`;
  if (f.batchId) {
    where += " AND batch_id = {batch:UUID}";
    params.batch = f.batchId;
  }
  return { where, params };
}

export interface TimeSeriesPoint {
  /** Start of the bucket, ISO 8601 UTC. */
  time: string;
  counts: FunnelCounts;
}

/** Buckets with at least one event, in time order, for [from, to). */
export async function tenantTimeSeries(ch: ClickHouseClient, f: RangeFilter & { interval: Interval }): Promise<TimeSeriesPoint[]> {
  const bucket = { minute: "minute", hour: "toStartOfHour(minute)", day: "toStartOfDay(minute)" }[f.interval];
  const { where, params } = rangeWhere(f, "minute");
  const r = await rows<{ t: string; event_type: string; events: unknown }>(
    ch,
    `SELECT toUnixTimestamp(${bucket}) AS t, event_type, sum(events) AS events FROM events_minute
     WHERE ${where} GROUP BY t, event_type ORDER BY t`,
    params,
  );
  const byTime = new Map<number, FunnelCounts>();
  for (const row of r) {
    const t = num(row.t);
    const counts = byTime.get(t) ?? emptyCounts();
    if (row.event_type in counts) counts[row.event_type as FunnelStep] += num(row.events);
    byTime.set(t, counts);
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, counts]) => ({ time: new Date(t * 1000).toISOString(), counts }));
}

export interface ReasonCount {
  eventType: string;
  reason: string;
  events: number;
}

export async function topReasons(
  ch: ClickHouseClient,
  f: RangeFilter & { eventTypes?: ("bounced" | "failed" | "complained")[]; limit?: number },
): Promise<ReasonCount[]> {
  const { where, params } = rangeWhere(f, "day");
  params.types = f.eventTypes ?? ["bounced", "failed", "complained"];
  params.limit = Math.min(Math.max(f.limit ?? 10, 1), 100);
  // `day` is a Date: compare the range against whole days that overlap it.
  const dayWhere = where
    .replace("day >= toDateTime({from:UInt32}, 'UTC')", "day >= toDate(toDateTime({from:UInt32}, 'UTC'))")
    .replace("day < toDateTime({to:UInt32}, 'UTC')", "day <= toDate(toDateTime({to:UInt32}, 'UTC'))");
  const r = await rows<{ event_type: string; reason: string; events: unknown }>(
    ch,
    `SELECT event_type, reason, sum(events) AS events FROM event_reasons_daily
     WHERE ${dayWhere} AND event_type IN {types:Array(String)}
     GROUP BY event_type, reason ORDER BY events DESC, reason LIMIT {limit:UInt32}`,
    params,
  );
  return r.map((x) => ({ eventType: x.event_type, reason: x.reason, events: num(x.events) }));
}

export interface Breakdown {
  key: string;
  counts: FunnelCounts;
  rates: BatchFunnel["rates"];
}

/** Funnel per provider or per sending domain over a range (optionally one batch). */
export async function breakdown(ch: ClickHouseClient, f: RangeFilter & { by: "provider" | "sending_domain" }): Promise<Breakdown[]> {
  const column = f.by === "provider" ? "provider" : "sending_domain";
  const { where, params } = rangeWhere(f, "minute");
  const r = await rows<{ key: string; event_type: string; events: unknown }>(
    ch,
    `SELECT ${column} AS key, event_type, sum(events) AS events FROM events_minute
     WHERE ${where} GROUP BY key, event_type ORDER BY key`,
    params,
  );
  const byKey = new Map<string, FunnelCounts>();
  for (const row of r) {
    const counts = byKey.get(row.key) ?? emptyCounts();
    if (row.event_type in counts) counts[row.event_type as FunnelStep] += num(row.events);
    byKey.set(row.key, counts);
  }
  return [...byKey.entries()].map(([key, counts]) => ({ key, counts, rates: funnelRates(counts) }));
}
