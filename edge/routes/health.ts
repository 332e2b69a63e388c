/** Liveness (no dependencies touched) and readiness (Postgres answers). Not rate limited, no auth. */
import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { AppError } from "../../core/domain/problem";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { requestServices } from "../middleware/request-services";
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
  middleware: [requestServices] as const,
  responses: { 200: json(Readiness, "Ready"), ...problemsExactly(500, 503) },
});
healthRoutes.openapi(readyRoute, async (c) => {
  try {
    await c.get("db").execute(sql`select 1`);
  } catch (err) {
    console.error("readiness: postgres unreachable", err);
    throw new AppError("unavailable", "Postgres is unreachable");
  }
  return c.json({ status: "ok" as const, checks: { postgres: "ok" as const } }, 200);
});
healthRoutes.all("/ready", methodNotAllowed(["GET"]));
