import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLICKHOUSE_MIGRATIONS_DIR, renderMigration, splitStatements, storageFromEnv } from "./migrate";

const events = fs.readFileSync(path.join(CLICKHOUSE_MIGRATIONS_DIR, "0000_events.sql"), "utf8");

describe("ClickHouse migration templating", () => {
  it("has no cold volume locally: delete-only TTL, no storage policy", () => {
    const sql = renderMigration(events, storageFromEnv({}));
    expect(sql).toContain("TTL toDateTime(time) + INTERVAL 400 DAY DELETE\n");
    expect(sql).not.toContain("TO VOLUME");
    expect(sql).not.toContain("storage_policy");
  });

  it("moves parts to the cold volume, then deletes them, where a storage policy is configured", () => {
    const sql = renderMigration(
      events,
      storageFromEnv({ CLICKHOUSE_STORAGE_POLICY: "hot_cold", CLICKHOUSE_COLD_AFTER_DAYS: "14", CLICKHOUSE_RETENTION_DAYS: "365" }),
    );
    expect(sql).toContain("TTL toDateTime(time) + INTERVAL 14 DAY TO VOLUME 'cold', toDateTime(time) + INTERVAL 365 DAY DELETE");
    expect(sql).toContain("non_replicated_deduplication_window = 1000, storage_policy = 'hot_cold';");
  });

  it("refuses unsafe names and unknown placeholders", () => {
    expect(() => renderMigration(events, { ...storageFromEnv({}), storagePolicy: "x'; DROP" })).toThrow(/storage policy/);
    expect(() => renderMigration("SELECT {{nope}}", storageFromEnv({}))).toThrow(/nope/);
    expect(() => storageFromEnv({ CLICKHOUSE_RETENTION_DAYS: "-1" })).toThrow(/CLICKHOUSE_RETENTION_DAYS/);
  });

  it("splits statements on a trailing semicolon and drops comment-only chunks", () => {
    expect(splitStatements("-- c\nCREATE TABLE a (x String DEFAULT ';');\n-- only a comment\n;\nSELECT 1;\n")).toEqual([
      "-- c\nCREATE TABLE a (x String DEFAULT ';')",
      "SELECT 1",
    ]);
  });
});
