/**
 * CORS for the dashboard only (DASHBOARD_ORIGIN): the dashboard calls the API from the browser with
 * credentials; customers call it from their servers and need no CORS at all. A request from any other
 * origin gets no CORS headers whatsoever (hono's `cors` alone would still add Allow-Credentials and answer
 * every preflight), so the browser refuses to hand the response to that page; its preflight falls through
 * to the routes and gets their 404/405 problem.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../hono-env";

/** Headers the dashboard's code may read from a response. */
const EXPOSED = ["Request-Id", "Idempotent-Replayed", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"];

// Per-isolate cache: one hono cors handler per configured origin.
const handlers = new Map<string, MiddlewareHandler>();

function corsFor(origin: string): MiddlewareHandler {
  let h = handlers.get(origin);
  if (!h) {
    h = cors({
      origin,
      credentials: true,
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Traceparent"],
      exposeHeaders: EXPOSED,
      maxAge: 600,
    });
    handlers.set(origin, h);
  }
  return h;
}

export const dashboardCors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const allowed = c.get("config").DASHBOARD_ORIGIN;
  if (c.req.header("origin") === allowed) return corsFor(allowed)(c, next);
  // Responses differ by Origin (hono's cors says so for the dashboard's): caches must keep them apart.
  c.header("Vary", "Origin", { append: true });
  return next();
};
