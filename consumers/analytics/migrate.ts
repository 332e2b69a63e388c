/**
 * Applies migrations/clickhouse/*.sql in file order (README there). Applied files are recorded in
 * `schema_migrations` with the checksum of the file as written (before placeholders are filled), so a second
 * run is a no-op whatever the environment, and an edited applied file is refused instead of silently skipped.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_CLICKHOUSE_DATABASE, openClickHouse, type ClickHouseConnection } from "./client";

/**
 * migrations/clickhouse of the checkout or image: found by walking up from this file, which sits in
 * consumers/analytics/ in the source tree but is bundled into dist/migrate.js by `npm run build`.
 */
function findMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, "migrations", "clickhouse");
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error("migrations/clickhouse not found above " + fileURLToPath(import.meta.url));
}

export const CLICKHOUSE_MIGRATIONS_DIR = findMigrationsDir();

export interface StorageOptions {
  /** A storage policy with a cold volume, declared in the server's config; none locally. */
  storagePolicy?: string;
  coldVolume: string;
  coldAfterDays: number;
  retentionDays: number;
}

export function storageFromEnv(env: Record<string, string | undefined> = process.env): StorageOptions {
  const days = (name: string, dflt: number) => {
    const n = Number(env[name] ?? dflt);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${env[name]}`);
    return n;
  };
  return {
    storagePolicy: env.CLICKHOUSE_STORAGE_POLICY || undefined,
    coldVolume: env.CLICKHOUSE_COLD_VOLUME || "cold",
    coldAfterDays: days("CLICKHOUSE_COLD_AFTER_DAYS", 30),
    retentionDays: days("CLICKHOUSE_RETENTION_DAYS", 400),
  };
}

const NAME = /^[A-Za-z0-9_]+$/;

export function renderMigration(sql: string, s: StorageOptions): string {
  for (const [k, v] of [["storage policy", s.storagePolicy ?? "none"], ["cold volume", s.coldVolume]] as const) {
    if (!NAME.test(v)) throw new Error(`ClickHouse ${k} must match ${NAME}, got ${v}`);
  }
  const del = `toDateTime(time) + INTERVAL ${s.retentionDays} DAY DELETE`;
  const vars: Record<string, string> = {
    events_ttl: s.storagePolicy ? `toDateTime(time) + INTERVAL ${s.coldAfterDays} DAY TO VOLUME '${s.coldVolume}', ${del}` : del,
    storage_policy: s.storagePolicy ? `, storage_policy = '${s.storagePolicy}'` : "",
    retention_days: String(s.retentionDays),
  };
  return sql.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`unknown placeholder {{${k}}} in a ClickHouse migration`);
    return v;
  });
}

/** Splits on `;` at the end of a line; drops comment-only chunks. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.split("\n").some((line) => line.trim() && !line.trim().startsWith("--")));
}

export async function runClickHouseMigrations(
  conn: ClickHouseConnection,
  opts: { storage?: StorageOptions; dir?: string } = {},
): Promise<{ applied: string[]; database: string }> {
  const database = conn.database ?? DEFAULT_CLICKHOUSE_DATABASE;
  if (!NAME.test(database)) throw new Error(`ClickHouse database must match ${NAME}, got ${database}`);
  const storage = opts.storage ?? storageFromEnv();
  const dir = opts.dir ?? CLICKHOUSE_MIGRATIONS_DIR;
  const admin = openClickHouse(conn, "default");
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  } finally {
    await admin.close();
  }
  const ch = openClickHouse(conn, database);
  const applied: string[] = [];
  try {
    await ch.command({
      query:
        "CREATE TABLE IF NOT EXISTS schema_migrations (name String, checksum String, applied_at DateTime('UTC') DEFAULT now()) " +
        "ENGINE = MergeTree ORDER BY name",
    });
    const done = new Map(
      (
        (await (await ch.query({ query: "SELECT name, checksum FROM schema_migrations", format: "JSONEachRow" })).json()) as {
          name: string;
          checksum: string;
        }[]
      ).map((r) => [r.name, r.checksum]),
    );
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort();
    for (const file of files) {
      const text = fs.readFileSync(path.join(dir, file), "utf8");
      const checksum = createHash("sha256").update(text).digest("hex");
      const previous = done.get(file);
      if (previous === checksum) continue;
      if (previous) throw new Error(`ClickHouse migration ${file} was changed after it was applied: add a new file instead`);
      for (const statement of splitStatements(renderMigration(text, storage))) await ch.command({ query: statement });
      await ch.insert({ table: "schema_migrations", values: [{ name: file, checksum }], format: "JSONEachRow" });
      applied.push(file);
    }
  } finally {
    await ch.close();
  }
  return { applied, database };
}
