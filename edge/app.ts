/**
 * The Hono app: middleware order is the contract. Request id/trace/config first (so every problem has a
 * request id), then for /v1: per-IP limit (before any database work), per-request services, API-key auth,
 * per-key limit, routes. Unknown routes and wrong methods are problems too.
 */
import { Hono } from "hono";
import type { AppEnv } from "./hono-env";
import { notFound, onError } from "./http/problem";
import { apiKeyAuth } from "./middleware/auth";
import { ipRateLimit, keyRateLimit } from "./middleware/rate-limit";
import { initRequest } from "./middleware/request-init";
import { requestServices } from "./middleware/request-services";
import { adminRoutes } from "./routes/admin";
import { batchRoutes } from "./routes/batches";
import { healthRoutes } from "./routes/health";

export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", initRequest);
  app.route("/health", healthRoutes);

  app.use("/v1/*", ipRateLimit, requestServices, apiKeyAuth, keyRateLimit);
  app.route("/v1/batches", batchRoutes);
  // Operator routes: 404 unless ADMIN_TOKEN is set; own Bearer auth, no API keys (routes/admin.ts).
  app.route("/admin", adminRoutes);
  return app;
}
