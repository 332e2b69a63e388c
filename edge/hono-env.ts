/**
 * The Hono environment of the Worker: validated bindings plus the per-request services that middleware puts
 * on the context (CONVENTIONS 3). Nothing here outlives a request.
 */
import type { ApiKeyMode } from "../core/domain/api-keys";
import type { Bindings, EdgeConfig } from "./env";
import type { Db } from "./adapters/db";
import type { Publisher } from "./adapters/publisher";
import type { Wakeups } from "./adapters/wakeups";

export interface Caller {
  tenantId: string;
  apiKeyId: string;
  mode: ApiKeyMode;
  /** The key's scopes as stored (core/domain/scopes.ts); checked by requireScope. */
  scopes: string[];
}

export interface AppVariables {
  requestId: string;
  /** W3C trace id (32 hex), from `traceparent` or generated; travels into NATS headers. */
  traceId: string;
  config: EdgeConfig;
  db: Db;
  publisher: Publisher;
  wakeups: Wakeups;
  /** Work after the response (waitUntil), finished before the request's pool is closed. */
  defer: (what: string, work: Promise<unknown>) => void;
  caller: Caller;
  /** Remaining requests of the most constrained limit seen so far; its numbers go into RateLimit-*. */
  rateLimitRemaining?: number;
  /** What the Idempotency-Key record stores for replay instead of the body (a secret shown once is never stored). */
  idempotentReplayBody?: string;
}

export type AppEnv = { Bindings: Bindings; Variables: AppVariables };
