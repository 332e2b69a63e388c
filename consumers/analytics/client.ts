/**
 * The one way the consumers and tools open ClickHouse: `@clickhouse/client-web` (fetch-based, so the same
 * client could run at the edge) against `CLICKHOUSE_URL` — a real server in production, the local chdb server
 * (dev/adapters/clickhouse-http.ts) on the local stack.
 */
import { createClient, type ClickHouseClient } from "@clickhouse/client-web";

export interface ClickHouseConnection {
  url: string;
  database?: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
  /** A fetch wrapper (tests inject failures with it). */
  fetch?: typeof fetch;
}

export const DEFAULT_CLICKHOUSE_DATABASE = "batchsender";

export function clickHouseFromEnv(env: Record<string, string | undefined> = process.env): ClickHouseConnection | undefined {
  if (!env.CLICKHOUSE_URL) return undefined;
  return {
    url: env.CLICKHOUSE_URL,
    database: env.CLICKHOUSE_DATABASE || DEFAULT_CLICKHOUSE_DATABASE,
    username: env.CLICKHOUSE_USER || undefined,
    password: env.CLICKHOUSE_PASSWORD || undefined,
  };
}

export function openClickHouse(conn: ClickHouseConnection, database = conn.database ?? DEFAULT_CLICKHOUSE_DATABASE): ClickHouseClient {
  return createClient({
    url: conn.url,
    database,
    username: conn.username ?? "default",
    password: conn.password ?? "",
    request_timeout: conn.requestTimeoutMs ?? 30_000,
    ...(conn.fetch ? { fetch: conn.fetch } : {}),
  });
}
