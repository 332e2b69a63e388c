/**
 * The local ClickHouse HTTP server (real engine from chdb) driven by the unmodified `@clickhouse/client-web`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient, ClickHouseError, type ClickHouseClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClickHouseHttp, type RunningClickHouse } from "./clickhouse-http";

let server: RunningClickHouse;
let client: ClickHouseClient;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ch-http-"));
  server = await startClickHouseHttp({ host: "127.0.0.1", port: 0, dataDir });
  client = createClient({ url: server.url, database: "default" });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("local ClickHouse over HTTP with @clickhouse/client-web", () => {
  it("answers /ping and ping()", async () => {
    const res = await fetch(`${server.url}/ping`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Ok.\n");
    expect((await client.ping()).success).toBe(true);
  });

  it("creates a database, inserts JSONEachRow and selects it back in another database", async () => {
    await client.command({ query: "CREATE DATABASE IF NOT EXISTS analytics_t" });
    const db = createClient({ url: server.url, database: "analytics_t" });
    await db.command({
      query: "CREATE TABLE IF NOT EXISTS items (id UInt32, name String, kind LowCardinality(String)) ENGINE = MergeTree ORDER BY id",
    });
    const ins = await db.insert({
      table: "items",
      values: [
        { id: 1, name: "it's \"quoted\"\ttab", kind: "a" },
        { id: 2, name: "zwei", kind: "b" },
      ],
      format: "JSONEachRow",
    });
    expect(ins.executed).toBe(true);
    expect(JSON.parse(ins.response_headers["x-clickhouse-summary"] as string).written_rows).toBe("2");
    const rs = await db.query({ query: "SELECT id, name, kind FROM items ORDER BY id", format: "JSONEachRow" });
    expect(rs.response_headers["x-clickhouse-format"]).toBe("JSONEachRow");
    expect(await rs.json()).toEqual([
      { id: 1, name: "it's \"quoted\"\ttab", kind: "a" },
      { id: 2, name: "zwei", kind: "b" },
    ]);
    // The default database was not changed by the request with database=analytics_t.
    const cur = await client.query({ query: "SELECT currentDatabase() AS d", format: "JSONEachRow" });
    expect(await cur.json()).toEqual([{ d: "default" }]);
    await db.close();
  });

  it("binds query parameters server-side, escaped strings included", async () => {
    const rs = await client.query({
      query: "SELECT {n:UInt32} + 1 AS n, {s:String} AS s, {xs:Array(String)} AS xs",
      query_params: { n: 41, s: "it's\ta\\b", xs: ["p'q", "r"] },
      format: "JSONEachRow",
    });
    expect(await rs.json()).toEqual([{ n: 42, s: "it's\ta\\b", xs: ["p'q", "r"] }]);
  });

  it("applies settings per query only, and deduplicates a retried insert by its token", async () => {
    await client.command({
      query:
        "CREATE TABLE IF NOT EXISTS dedup (id UInt32) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000",
    });
    const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
    for (let i = 0; i < 2; i++) {
      await client.insert({
        table: "dedup",
        values: rows,
        format: "JSONEachRow",
        clickhouse_settings: { insert_deduplication_token: "batch-1", wait_end_of_query: 1 },
      });
    }
    await client.insert({ table: "dedup", values: rows, format: "JSONEachRow", clickhouse_settings: { insert_deduplication_token: "batch-2" } });
    const rs = await client.query({ query: "SELECT count() AS c FROM dedup", format: "JSONEachRow" });
    expect(Number(((await rs.json()) as { c: string | number }[])[0]!.c)).toBe(6);
    const setting = await client.query({ query: "SELECT getSetting('max_threads') AS t", format: "JSONEachRow", clickhouse_settings: { max_threads: 3 } });
    expect(Number(((await setting.json()) as { t: string | number }[])[0]!.t)).toBe(3);
    const after = await client.query({ query: "SELECT getSetting('insert_deduplication_token') AS t", format: "JSONEachRow" });
    expect(await after.json()).toEqual([{ t: "" }]);
  });

  it("reports errors in ClickHouse's HTTP format", async () => {
    const err = await client.query({ query: "SELECT * FROM no_such_table", format: "JSONEachRow" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect((err as ClickHouseError).code).toBe("60");
    expect((err as ClickHouseError).type).toBe("UNKNOWN_TABLE");

    const raw = await fetch(`${server.url}/?query=${encodeURIComponent("SELEC 1")}`, { method: "POST" });
    expect(raw.status).toBe(400);
    expect(raw.headers.get("x-clickhouse-exception-code")).toBe("62");
    expect(await raw.text()).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\)/);

    await client.command({ query: "CREATE TABLE IF NOT EXISTS typed (n UInt32) ENGINE = MergeTree ORDER BY n" });
    const bad = await client
      .insert({ table: "typed", values: [{ n: 1 }, { n: "not a number" }], format: "JSONEachRow" })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ClickHouseError);
    expect(Number((bad as ClickHouseError).code)).toBeGreaterThan(0);
    const count = await client.query({ query: "SELECT count() AS c FROM typed", format: "JSONEachRow" });
    expect(Number(((await count.json()) as { c: string | number }[])[0]!.c)).toBe(0);
  });

  it("keeps data across a restart in the same folder", async () => {
    await client.command({ query: "CREATE TABLE IF NOT EXISTS kept (id UInt32) ENGINE = MergeTree ORDER BY id" });
    await client.insert({ table: "kept", values: [{ id: 7 }], format: "JSONEachRow" });
    await client.close();
    await server.close();
    server = await startClickHouseHttp({ host: "127.0.0.1", port: 0, dataDir });
    client = createClient({ url: server.url });
    const rs = await client.query({ query: "SELECT id FROM kept", format: "JSONEachRow" });
    expect(await rs.json()).toEqual([{ id: 7 }]);
  });
});
