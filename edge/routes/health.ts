/**
 * Liveness (no dependencies touched) and readiness (Postgres answers). No auth, no limits: anyone may ask,
 * so readiness must not cost a database connection per request. Its answer is cached per isolate for
 * READY_TTL_MS (a failure for FAILED_TTL_MS, so recovery shows quickly); only a miss opens a connection.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { AppError } from "../../core/domain/problem";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { openDb } from "../adapters/db";
import { json } from "./batch-schemas";
import { problemsExactly } from "./shared-schemas";

export const healthRoutes = openApiApp();

const Health = z.object({ status: z.literal("ok") }).openapi("Health");
const Readiness = z.object({ status: z.literal("ok"), checks: z.object({ postgres: z.literal("ok") }) }).openapi("Readiness");

const liveRoute = createRoute({
  operationId: "getHealth",
  method: "get",
  path: "/",
  tags: ["Health"],
  summary: "Liveness: the Worker answers",
  security: [],
  responses: { 200: json(Health, "Alive"), ...problemsExactly(500) },
});
healthRoutes.openapi(liveRoute, (c) => c.json({ status: "ok" as const }, 200));
healthRoutes.all("/", methodNotAllowed(["GET"]));

const readyRoute = createRoute({
  operationId: "getReadiness",
  method: "get",
  path: "/ready",
  tags: ["Health"],
  summary: "Readiness: Postgres answers",
  security: [],
  responses: { 200: json(Readiness, "Ready"), ...problemsExactly(500, 503) },
});
export const READY_TTL_MS = 5_000;
const FAILED_TTL_MS = 1_000;

// Per-isolate cache (module scope on purpose), keyed by the database URL so another env is checked anew.
// Results only, never a shared promise: workerd forbids awaiting one request's I/O from another.
const readiness = new Map<string, { ok: boolean; until: number }>();

healthRoutes.openapi(readyRoute, async (c) => {
  const config = c.get("config");
  let known = readiness.get(config.DATABASE_URL);
  if (!known || known.until <= Date.now()) {
    const { db, close } = openDb(config);
    let ok = true;
    try {
      await db.execute(sql`select 1`);
    } catch (err) {
      ok = false;
      console.error("readiness: postgres unreachable", err instanceof Error ? err.message : err);
    } finally {
      c.executionCtx.waitUntil(close());
    }
    known = { ok, until: Date.now() + (ok ? READY_TTL_MS : FAILED_TTL_MS) };
    readiness.set(config.DATABASE_URL, known);
  }
  if (!known.ok) throw new AppError("unavailable", "Postgres is unreachable", { headers: { "Retry-After": "1" } });
  return c.json({ status: "ok" as const, checks: { postgres: "ok" as const } }, 200);
});
healthRoutes.all("/ready", methodNotAllowed(["GET"]));
