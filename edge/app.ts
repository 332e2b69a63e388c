/**
 * The Hono app: middleware order is the contract. Request id/trace/config first (so every problem has a
 * request id), the public document and reference page, then for /v1: per-IP limit (before any database
 * work), per-request services, API-key auth, per-key limit, routes. Unknown routes and wrong methods are
 * problems too.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./hono-env";
import { openApiApp } from "./http/openapi-app";
import { notFound, onError } from "./http/problem";
import { apiKeyAuth } from "./middleware/auth";
import { ipRateLimit, keyRateLimit } from "./middleware/rate-limit";
import { initRequest } from "./middleware/request-init";
import { requestServices } from "./middleware/request-services";
import { adminRoutes } from "./routes/admin";
import { batchPreviewRoutes } from "./routes/batch-preview";
import { batchRecipientRoutes } from "./routes/batch-recipients";
import { batchTransitionRoutes } from "./routes/batch-transitions";
import { batchRoutes } from "./routes/batches";
import { registerDocs } from "./routes/docs";
import { domainRoutes } from "./routes/domains";
import { healthRoutes } from "./routes/health";
import { sendConfigRoutes } from "./routes/send-configs";

export function buildApp(): OpenAPIHono<AppEnv> {
  const app = openApiApp();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", initRequest);
  app.route("/health", healthRoutes);
  // Registered before the /v1 middleware, so the document is served without a key.
  registerDocs(app);

  app.use("/v1/*", ipRateLimit, requestServices, apiKeyAuth, keyRateLimit);
  app.route("/v1/batches", batchRoutes);
  // Operator routes: 404 unless ADMIN_TOKEN is set; own Bearer auth, no API keys (routes/admin.ts).
  app.route("/admin", adminRoutes);
  app.route("/v1/batches", batchRecipientRoutes);
  app.route("/v1/batches", batchTransitionRoutes);
  app.route("/v1/batches", batchPreviewRoutes);
  app.route("/v1/domains", domainRoutes);
  app.route("/v1/send-configs", sendConfigRoutes);
  return app;
}
