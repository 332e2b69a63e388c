/**
 * The Hono app: middleware order is the contract. Request id/trace/config first (so every problem has a
 * request id), then for /v1: per-IP limit (before any database work), per-request services, API-key auth,
 * per-key limit, routes. Unknown routes and wrong methods are problems too.
 */
import { Hono } from "hono";
import type { AppEnv } from "./context";
import { notFound, onError } from "./lib/problem";
import { apiKeyAuth } from "./middleware/auth";
import { ipRateLimit, keyRateLimit } from "./middleware/rate-limit";
import { requestContext } from "./middleware/request-context";
import { services } from "./middleware/services";
import { batchRoutes } from "./routes/batches";
import { healthRoutes } from "./routes/health";

export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", requestContext);
  app.route("/health", healthRoutes);

  app.use("/v1/*", ipRateLimit, services, apiKeyAuth, keyRateLimit);
  app.route("/v1/batches", batchRoutes);
  return app;
}
