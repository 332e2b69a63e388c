/**
 * The API's own description: the OpenAPI 3.1 document generated from the route schemas, and a reference
 * page rendering it. Public (no key, no rate limit): it holds nothing a customer's docs would not.
 *
 * The reference page loads Scalar's renderer from its CDN (jsdelivr); only the document is served here.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { SCOPE_DESCRIPTIONS, SCOPES } from "../../core/domain/scopes";
import type { AppEnv } from "../hono-env";

export const OPENAPI_PATH = "/v1/openapi.json";

export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key, `bs_live_…` or `bs_test_…` (test keys only see and send test-mode batches, always as dry runs). " +
      "Each key holds scopes; each operation's description names the one it needs, and a key without it gets a 403 " +
      `problem naming it. Scopes: ${SCOPES.map((s) => `\`${s}\` (${SCOPE_DESCRIPTIONS[s]})`).join("; ")}.`,
  });
  app.doc31(OPENAPI_PATH, (c) => ({
    openapi: "3.1.0",
    info: {
      title: "BatchSender API",
      version: "1.0.0",
      description:
        "Send one personalised message (email, SMS or webhook call) to many recipients at each provider's rate. " +
        "Errors are RFC 9457 problem documents; every POST accepts an Idempotency-Key.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: new URL(c.req.url).origin, description: "This deployment" }],
    security: [{ apiKey: [] }],
  }));
  app.get("/docs", Scalar({ url: OPENAPI_PATH, pageTitle: "BatchSender API" }));
}
