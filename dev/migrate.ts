/**
 * `npm run migrate`: creates the database if it is missing, then applies migrations/postgres in order with
 * drizzle's migrator (it records applied files in drizzle.__drizzle_migrations, so running it twice is a no-op).
 * Then migrations/clickhouse when `CLICKHOUSE_URL` is set or the local ClickHouse of `npm start` answers
 * (consumers/analytics/migrate.ts; the local stack applies them itself when it starts the server).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { clickHouseFromEnv } from "../consumers/analytics/client";
import { runClickHouseMigrations } from "../consumers/analytics/migrate";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`refusing to create a database named ${JSON.stringify(name)}`);
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) {
      try {
        await admin.query(`create database "${name}"`);
      } catch (err) {
        // Two processes racing to create it: the loser sees duplicate_database (42P04), which is fine.
        if ((err as { code?: string }).code !== "42P04") throw err;
      }
    }
  } finally {
    await admin.end();
  }
}

export async function runMigrations(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    // A session lock so concurrent `npm start` / test runs do not apply the same migration twice.
    const client = await pool.connect();
    try {
      await client.query("select pg_advisory_lock(727274)");
      await migrate(drizzle(client), { migrationsFolder: path.join(root, "migrations/postgres") });
      await client.query("select pg_advisory_unlock(727274)");
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/batchsender";
  const localClickHouse = "http://127.0.0.1:8124";
  runMigrations(url)
    .then(async () => {
      console.log(`migrations applied to ${url.replace(/\/\/[^@]*@/, "//")}`);
      const ch =
        clickHouseFromEnv() ??
        ((await fetch(`${localClickHouse}/ping`).then((r) => r.ok, () => false)) ? { url: localClickHouse } : undefined);
      if (!ch) return console.log("ClickHouse: CLICKHOUSE_URL not set and no local server on :8124, skipped");
      const r = await runClickHouseMigrations(ch);
      console.log(`ClickHouse migrations applied to ${new URL(ch.url).host}/${r.database}: ${r.applied.join(", ") || "none new"}`);
    })
    .then(
    () => {},
    (err) => {
      console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
