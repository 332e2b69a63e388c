/** Liveness (no dependencies touched) and readiness (Postgres answers). Not rate limited, no auth. */
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { AppError } from "../../core/domain/problem";
import type { AppEnv } from "../hono-env";
import { methodNotAllowed } from "../http/problem";
import { requestServices } from "../middleware/request-services";

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/", (c) => c.json({ status: "ok" }));
healthRoutes.all("/", methodNotAllowed(["GET"]));

healthRoutes.get("/ready", requestServices, async (c) => {
  try {
    await c.get("db").execute(sql`select 1`);
  } catch (err) {
    console.error("readiness: postgres unreachable", err);
    throw new AppError("unavailable", "Postgres is unreachable");
  }
  return c.json({ status: "ok", checks: { postgres: "ok" } });
});
healthRoutes.all("/ready", methodNotAllowed(["GET"]));
