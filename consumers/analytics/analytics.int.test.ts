/**
 * ClickHouse DDL, the analytics writer and the rollup queries against the real engine (chdb) served by the
 * local HTTP server, through the unmodified @clickhouse/client-web.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ClickHouseClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClickHouseHttp, type RunningClickHouse } from "../../dev/adapters/clickhouse-http";
import { openClickHouse } from "./client";
import { runClickHouseMigrations } from "./migrate";
import { batchFunnel, breakdown, tenantTimeSeries, topReasons } from "./queries";
import { FUNNEL_EVENTS, type AnalyticsRowInput } from "./rows";
import { createAnalyticsWriter } from "./writer";

const DB = "analytics_test";
let server: RunningClickHouse;
let ch: ClickHouseClient;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ch-analytics-"));
  server = await startClickHouseHttp({ host: "127.0.0.1", port: 0, dataDir });
  await runClickHouseMigrations({ url: server.url, database: DB });
  ch = openClickHouse({ url: server.url, database: DB });
});

afterAll(async () => {
  await ch?.close();
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function count(sql: string, params: Record<string, unknown>): Promise<number> {
  const rs = await ch.query({ query: sql, query_params: params, format: "JSONEachRow" });
  return Number(((await rs.json()) as { c: string | number }[])[0]!.c);
}

const T0 = Date.parse("2026-11-30T10:00:00Z");

function row(tenant: string, batch: string, event_type: string, i: number, extra: Partial<AnalyticsRowInput> = {}): AnalyticsRowInput {
  return {
    tenant_id: tenant,
    batch_id: batch,
    recipient_id: randomUUID(),
    time: new Date(T0 + i * 1000),
    event_type: event_type as AnalyticsRowInput["event_type"],
    channel: "email",
    provider: "ses",
    region: "falkenstein",
    sending_domain: "mail.example.com",
    provider_message_id: `msg-${i}`,
    event_id: `ev-${randomUUID()}`,
    ...extra,
  };
}

describe("ClickHouse migrations", () => {
  it("are recorded and a second run applies nothing", async () => {
    const again = await runClickHouseMigrations({ url: server.url, database: DB });
    expect(again.applied).toEqual([]);
    const rs = await ch.query({ query: "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", query_params: { db: DB }, format: "JSONEachRow" });
    const names = ((await rs.json()) as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["events", "events_minute", "events_minute_mv", "event_reasons_daily", "schema_migrations"]));
    const ddl = await ch.query({ query: "SHOW CREATE TABLE events", format: "TabSeparatedRaw" });
    const text = await ddl.text();
    expect(text).toContain("ORDER BY (tenant_id, batch_id, time)");
    expect(text).toContain("LowCardinality(String)");
    expect(text).toMatch(/TTL toDateTime\(time\) \+ toIntervalDay\(400\)/);
  });

  it("deduplicate an insert repeated with the same token, in the table and in the rollup", async () => {
    const tenant = randomUUID();
    const batch = randomUUID();
    const values = Array.from({ length: 50 }, (_, i) => ({ ...row(tenant, batch, "sent", i), time: "2026-11-30 10:00:00.000" }));
    for (let i = 0; i < 3; i++) {
      await ch.insert({ table: "events", values, format: "JSONEachRow", clickhouse_settings: { insert_deduplication_token: `t-${batch}` } });
    }
    expect(await count("SELECT count() AS c FROM events WHERE batch_id = {b:UUID}", { b: batch })).toBe(50);
    expect(await count("SELECT sum(events) AS c FROM events_minute WHERE batch_id = {b:UUID}", { b: batch })).toBe(50);
  });
});

describe("analytics writer", () => {
  it("counts an insert retried after a lost response once", async () => {
    const tenant = randomUUID();
    const batch = randomUUID();
    let lost = 0;
    // The request reaches the server and is applied; the answer is lost on the way back (the case a token is for).
    const flaky: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).includes("INSERT") && lost < 1) {
        lost++;
        await res.text();
        throw new TypeError("fetch failed: socket hang up");
      }
      return res;
    };
    const client = openClickHouseWithFetch(flaky);
    const writer = createAnalyticsWriter({ client, maxRows: 10_000, maxDelayMs: 50, backoffMs: 10 });
    await writer.write(Array.from({ length: 300 }, (_, i) => row(tenant, batch, "delivered", i)));
    await writer.flush();
    expect(lost).toBe(1);
    expect(writer.stats.retries).toBe(1);
    expect(await count("SELECT count() AS c FROM events WHERE batch_id = {b:UUID}", { b: batch })).toBe(300);
    expect((await batchFunnel(ch, tenant, batch)).counts.delivered).toBe(300);
    await client.close();
  });

  it("rejects one invalid row and inserts the rest of its batch", async () => {
    const tenant = randomUUID();
    const batch = randomUUID();
    const writer = createAnalyticsWriter({ client: ch, maxDelayMs: 50 });
    const rows = Array.from({ length: 100 }, (_, i) => row(tenant, batch, "sent", i));
    rows[42] = { ...rows[42]!, event_type: "exploded" as never };
    await writer.write(rows);
    await writer.close();
    expect(writer.stats).toMatchObject({ rejected: 1, inserted: 99 });
    expect(await count("SELECT count() AS c FROM events WHERE batch_id = {b:UUID}", { b: batch })).toBe(99);
  });

  it("isolates rows ClickHouse cannot parse by bisecting, and inserts every other row once", async () => {
    const tenant = randomUUID();
    const batch = randomUUID();
    const writer = createAnalyticsWriter({ client: ch, maxDelayMs: 50, validate: false });
    const rows = Array.from({ length: 1000 }, (_, i) => ({ ...row(tenant, batch, "sent", i), time: "2026-11-30 10:00:00.000" })) as unknown[];
    rows[7] = { ...(rows[7] as object), recipient_id: "not-a-uuid" };
    rows[777] = { ...(rows[777] as object), time: "yesterday-ish" };
    await writer.write(rows as AnalyticsRowInput[]);
    await writer.flush();
    expect(writer.stats.rejected).toBe(2);
    expect(writer.stats.inserted).toBe(998);
    expect(await count("SELECT count() AS c FROM events WHERE batch_id = {b:UUID}", { b: batch })).toBe(998);
    expect(await count("SELECT sum(events) AS c FROM events_minute WHERE batch_id = {b:UUID}", { b: batch })).toBe(998);
  });

  it("retries infra errors with backoff, keeps the rows when attempts run out, and delivers them later", async () => {
    const tenant = randomUUID();
    const batch = randomUUID();
    let down = true;
    let refused = 0;
    const outage: typeof fetch = async (input, init) => {
      if (down) {
        refused++;
        throw new TypeError("fetch failed: ECONNREFUSED");
      }
      return fetch(input, init);
    };
    const client = openClickHouseWithFetch(outage);
    const writer = createAnalyticsWriter({ client, maxAttempts: 3, backoffMs: 5, maxDelayMs: 60_000 });
    await writer.write(Array.from({ length: 20 }, (_, i) => row(tenant, batch, "bounced", i, { reason: "Permanent/General" })));
    await expect(writer.flush()).rejects.toThrow(/ECONNREFUSED/);
    expect(refused).toBe(3);
    expect(writer.pending).toBe(20);
    down = false;
    await writer.close();
    expect(writer.pending).toBe(0);
    expect(await count("SELECT count() AS c FROM events WHERE batch_id = {b:UUID}", { b: batch })).toBe(20);
    await client.close();
  });

  it("cuts inserts at maxRows and flushes a partial batch after maxDelayMs", async () => {
    const tenant = randomUUID();
    const batch = randomUUID();
    const writer = createAnalyticsWriter({ client: ch, maxRows: 10_000, maxDelayMs: 200 });
    await writer.write(Array.from({ length: 25_000 }, (_, i) => row(tenant, batch, "queued", i)));
    await writer.flush();
    expect(writer.stats.inserts).toBe(3);
    await writer.write(row(tenant, batch, "queued", 25_000));
    const deadline = Date.now() + 10_000;
    while (writer.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(writer.pending).toBe(0);
    expect(writer.stats.inserts).toBe(4);
    expect(await count("SELECT count() AS c FROM events WHERE batch_id = {b:UUID}", { b: batch })).toBe(25_001);
    await writer.close();
  });
});

describe("analytics queries from the rollups", () => {
  it("report exactly what was inserted: funnel, time series, reasons, provider and domain", async () => {
    const tenant = randomUUID();
    const other = randomUUID();
    const batch = randomUUID();
    // A deterministic mix (LCG) over 3 hours, two providers, two domains.
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const expected = Object.fromEntries(FUNNEL_EVENTS.map((k) => [k, 0])) as Record<string, number>;
    const perHour = new Map<string, number>();
    const perProvider = new Map<string, number>();
    const reasons = new Map<string, number>();
    const rows: AnalyticsRowInput[] = [];
    for (let i = 0; i < 5000; i++) {
      const type = FUNNEL_EVENTS[Math.floor(rnd() * FUNNEL_EVENTS.length)]!;
      const provider = rnd() < 0.5 ? "ses" : "resend";
      const domain = rnd() < 0.7 ? "a.example.com" : "b.example.com";
      const t = T0 + Math.floor(rnd() * 3 * 3600) * 1000;
      const reason = type === "bounced" ? (rnd() < 0.8 ? "Permanent/NoEmail" : "Transient/MailboxFull") : "";
      rows.push(row(tenant, batch, type, 0, { time: new Date(t), provider, sending_domain: domain, reason }));
      expected[type]!++;
      const hour = new Date(Math.floor(t / 3600_000) * 3600_000).toISOString();
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
      if (type === "delivered") perProvider.set(provider, (perProvider.get(provider) ?? 0) + 1);
      if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    // Another tenant's rows in the same batch id must never show up.
    rows.push(row(other, batch, "delivered", 1));
    const writer = createAnalyticsWriter({ client: ch, maxRows: 1_000 });
    await writer.write(rows);
    await writer.close();

    const funnel = await batchFunnel(ch, tenant, batch);
    expect(funnel.counts).toEqual(expected);
    expect(funnel.rates.delivered).toBeCloseTo(expected.delivered! / expected.sent!, 10);
    expect(funnel.rates.opened).toBeCloseTo(expected.opened! / expected.delivered!, 10);

    const range = { tenantId: tenant, from: new Date(T0 - 3600_000), to: new Date(T0 + 4 * 3600_000) };
    const hourly = await tenantTimeSeries(ch, { ...range, interval: "hour" });
    expect(new Map(hourly.map((p) => [p.time, Object.values(p.counts).reduce((a, b) => a + b, 0)]))).toEqual(perHour);
    const minutely = await tenantTimeSeries(ch, { ...range, interval: "minute" });
    expect(minutely.reduce((n, p) => n + p.counts.bounced, 0)).toBe(expected.bounced);
    const daily = await tenantTimeSeries(ch, { ...range, interval: "day" });
    expect(daily).toHaveLength(1);
    expect(daily[0]!.counts).toEqual(expected);

    const top = await topReasons(ch, { ...range, eventTypes: ["bounced"] });
    expect(top.map((r) => [r.reason, r.events])).toEqual(
      [...reasons.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v]),
    );

    const byProvider = await breakdown(ch, { ...range, by: "provider" });
    expect(new Map(byProvider.map((b) => [b.key, b.counts.delivered]))).toEqual(perProvider);
    const byDomain = await breakdown(ch, { ...range, batchId: batch, by: "sending_domain" });
    expect(byDomain.map((b) => b.key).sort()).toEqual(["a.example.com", "b.example.com"]);
    expect(byDomain.reduce((n, b) => n + b.counts.sent, 0)).toBe(expected.sent);
  });
});

function openClickHouseWithFetch(f: typeof fetch): ClickHouseClient {
  return openClickHouse({ url: server.url, database: DB, fetch: f });
}
