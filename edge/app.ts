/**
 * The Hono app: middleware order is the contract. Request id/trace/config first (so every problem has a
 * request id), CORS for the dashboard's origin only (preflights answered before any limit or key), the public document and reference page, then for /v1: per-IP and per-key limits (before any
 * database work, so a refusal is cheap), per-request services, API-key auth, its scope (http/scopes.ts), routes. Unknown routes and wrong methods are
 * problems too.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./hono-env";
import { openApiApp } from "./http/openapi-app";
import { notFound, onError } from "./http/problem";
import { documentScopes } from "./http/scopes";
import { apiKeyAuth, requireScope } from "./middleware/auth";
import { dashboardCors } from "./middleware/cors";
import { ipRateLimit, keyRateLimit } from "./middleware/rate-limit";
import { initRequest } from "./middleware/request-init";
import { requestServices } from "./middleware/request-services";
import { adminRoutes } from "./routes/admin";
import { apiKeyRoutes } from "./routes/api-keys";
import { batchPreviewRoutes } from "./routes/batch-preview";
import { batchRecipientRoutes } from "./routes/batch-recipients";
import { batchTransitionRoutes } from "./routes/batch-transitions";
import { batchRoutes } from "./routes/batches";
import { registerDocs } from "./routes/docs";
import { domainRoutes } from "./routes/domains";
import { healthRoutes } from "./routes/health";
import { usageRoutes } from "./routes/usage";
import { resendWebhookRoutes } from "./routes/provider-webhooks/resend";
import { sesWebhookRoutes } from "./routes/provider-webhooks/ses";
import { telnyxWebhookRoutes } from "./routes/provider-webhooks/telnyx";
import { suppressionRoutes } from "./routes/suppressions";
import { webhookDeliveryRoutes } from "./routes/webhook-deliveries";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints";
import { sendConfigRoutes } from "./routes/send-configs";

export function buildApp(): OpenAPIHono<AppEnv> {
  const app = openApiApp();
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", initRequest);
  app.use("*", dashboardCors);
  app.route("/health", healthRoutes);
  // Registered before the /v1 middleware, so the document is served without a key.
  registerDocs(app);

  app.use("/v1/*", ipRateLimit, keyRateLimit, requestServices, apiKeyAuth, requireScope);
  app.route("/v1/batches", batchRoutes);
  // Operator routes: 404 unless ADMIN_TOKEN is set; own Bearer auth, no API keys (routes/admin.ts).
  app.route("/admin", adminRoutes);
  app.route("/v1/batches", batchRecipientRoutes);
  app.route("/v1/batches", batchTransitionRoutes);
  app.route("/v1/batches", batchPreviewRoutes);
  // Provider webhooks: signed by the provider, no API key, no database on the request path.
  app.route("/webhooks/ses", sesWebhookRoutes);
  app.route("/webhooks/resend", resendWebhookRoutes);
  app.route("/webhooks/telnyx", telnyxWebhookRoutes);
  app.route("/v1/api-keys", apiKeyRoutes);
  app.route("/v1/usage", usageRoutes);
  app.route("/v1/suppressions", suppressionRoutes);
  app.route("/v1/webhook-endpoints", webhookEndpointRoutes);
  app.route("/v1/webhook-endpoints", webhookDeliveryRoutes);
  app.route("/v1/domains", domainRoutes);
  app.route("/v1/send-configs", sendConfigRoutes);
  documentScopes(app);
  return app;
}
