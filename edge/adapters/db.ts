/**
 * Postgres through Neon's serverless driver. workerd forbids reusing an I/O object across requests (a shared
 * pool hangs), so every request opens its own Pool and closes it with waitUntil (DESIGN §12).
 */
import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import type { PgDatabase } from "drizzle-orm/pg-core";
import type { NeonQueryResultHKT } from "drizzle-orm/neon-serverless";
import * as schema from "../../core/db/schema";
import type { EdgeConfig } from "../env";

export type Db = NeonDatabase<typeof schema>;
/** A database handle or an open transaction: verbs accept either. */
export type Executor = PgDatabase<NeonQueryResultHKT, typeof schema>;

let proxyConfigured: string | undefined;

function configureLocalProxy(proxy: string | undefined): void {
  // Local development only: plain Postgres behind dev/adapters/neon-proxy.ts, no TLS on loopback.
  if (!proxy || proxyConfigured === proxy) return;
  neonConfig.wsProxy = () => proxy;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  proxyConfigured = proxy;
}

export interface OpenDb {
  db: Db;
  /** Ends the pool; call through waitUntil once the request's work is done. Never rejects. */
  close(): Promise<void>;
}

export function openDb(config: EdgeConfig): OpenDb {
  configureLocalProxy(config.NEON_WS_PROXY);
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 4 });
  let closing = false;
  // An idle client that errors (proxy restart, Neon scale-to-zero) must not become an unhandled rejection;
  // the socket teardown after end() reports "connection lost" too, which is expected then.
  pool.on("error", (err: Error) => {
    if (!closing) console.error("postgres pool error", err.message);
  });
  return {
    db: drizzle(pool, { schema }),
    close: async () => {
      closing = true;
      await pool.end().catch((err: unknown) => console.error("pool.end failed", err));
    },
  };
}

/** Postgres error code of a driver error (e.g. 23505 unique violation), if any. */
export function pgErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
