/**
 * Operator routes (docs/runbooks/failover.md). Off unless the ADMIN_TOKEN secret is set: without it every
 * /admin path answers 404, exactly like a route that does not exist (DESIGN §13: no admin route ships enabled
 * with a default secret). With it: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 *
 * - `GET  /admin/failover` — the region map, probe counters, pin and DNS state;
 * - `POST /admin/failover` `{ "action": "pin", "region": "ashburn" }` | `{ "action": "unpin" }` |
 *   `{ "action": "failover" }` (pins the secondary) | `{ "action": "failback" }` (primary, automatic again).
 *   Applied atomically in the FailoverState object, followed by the same DNS switch and alerts as the cron,
 *   and recorded in `audit_log` (tenant = the nil UUID: a platform action, not a tenant's).
 */
import { sql } from "drizzle-orm";
import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { Region } from "../../core/contract";
import { AppError } from "../../core/domain/problem";
import type { AppEnv } from "../hono-env";
import { applyCommand, failoverDepsFromEnv, failoverSettings } from "../cron/failover";
import { routesOf } from "../cron/failover-policy";
import { readJson } from "../http/json-body";
import { methodNotAllowed, notFound } from "../http/problem";
import { requestServices } from "../middleware/request-services";

/** audit_log.tenant_id is NOT NULL; platform actions use the nil UUID (no tenant has it). */
export const PLATFORM_TENANT_ID = "00000000-0000-0000-0000-000000000000";

const FailoverCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("pin"), region: Region }),
  z.object({ action: z.literal("unpin") }),
  z.object({ action: z.literal("failover") }),
  z.object({ action: z.literal("failback") }),
]);

async function sameSecret(a: string, b: string): Promise<boolean> {
  // Hash first so both sides have the same length; timingSafeEqual then compares without early exit.
  const enc = new TextEncoder();
  const [ha, hb] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.get("config").ADMIN_TOKEN;
  if (!expected) return notFound(c);
  const given = /^Bearer +(\S+)$/i.exec(c.req.header("authorization")?.trim() ?? "")?.[1];
  if (!given || !(await sameSecret(given, expected))) {
    throw new AppError("unauthorized", "Admin token required: Authorization: Bearer <ADMIN_TOKEN>", {
      headers: { "WWW-Authenticate": 'Bearer realm="batchsender-admin"' },
    });
  }
  await next();
};

export const adminRoutes = new Hono<AppEnv>();
adminRoutes.use("*", adminAuth);

function settingsOrConflict(c: Parameters<MiddlewareHandler<AppEnv>>[0]) {
  const settings = failoverSettings(c.get("config"));
  if (!settings) throw new AppError("conflict", "Region failover is not configured (FAILOVER_HEALTH_URL_* unset)");
  return settings;
}

adminRoutes.get("/failover", async (c) => {
  const settings = settingsOrConflict(c);
  const deps = failoverDepsFromEnv(c.env, settings);
  const state = await deps.store.snapshot(settings.policy);
  return c.json({ primary: settings.policy.primary, routes: routesOf(state), state });
});

adminRoutes.post("/failover", requestServices, async (c) => {
  const settings = settingsOrConflict(c);
  const cmd = await readJson(c, FailoverCommand);
  const actor = `admin:${c.req.header("cf-connecting-ip") ?? "unknown"}`;
  const result = await applyCommand(failoverDepsFromEnv(c.env, settings), cmd, actor);
  await c.get("db").execute(sql`
    insert into audit_log (tenant_id, actor, action, target_type, target_id, data, request_id)
    values (${PLATFORM_TENANT_ID}, ${actor}, ${`failover.${cmd.action}`}, 'region_map', ${settings.stateName},
            ${JSON.stringify({ command: cmd, events: result.events, active: result.state.active, pinned: result.state.pinned, dns: result.dns })}::jsonb,
            ${c.get("requestId")})`);
  return c.json({ primary: settings.policy.primary, routes: routesOf(result.state), state: result.state, events: result.events, dns: result.dns });
});
adminRoutes.all("/failover", methodNotAllowed(["GET", "POST"]));
