/**
 * `POST /webhooks/resend`: Resend events signed with Svix headers (verify-svix.ts: HMAC-SHA256, several
 * signatures per header, several secrets during a rotation, 5-minute tolerance). shared/PROVIDERS.md §2.
 */
import { openApiApp } from "../../http/openapi-app";
import { methodNotAllowed } from "../../http/problem";
import { normaliseResend } from "../../services/provider-events/normalise";
import { verifySvix } from "./verify-svix";
import { accept, NOT_CONFIGURED, rawBody, refuse, webhookRoute } from "./webhook-route";

export const resendWebhookRoutes = openApiApp();

resendWebhookRoutes.openapi(webhookRoute("resend", "application/json", "Resend events (Svix-signed)"), async (c) => {
  const config = c.get("config");
  if (config.RESEND_WEBHOOK_SECRETS.length === 0) throw NOT_CONFIGURED("Resend");
  const body = await rawBody(c, "resend");
  const v = verifySvix(body, c.req.raw.headers, config.RESEND_WEBHOOK_SECRETS);
  if (!v.ok) return refuse("resend", v.reason === "malformed" ? "bad_request" : "unauthorized", v.reason);
  const { eventId } = await accept(c, normaliseResend(v.id, v.payload));
  return c.json({ received: true as const, eventId }, 200);
});
resendWebhookRoutes.all("/", methodNotAllowed(["POST"]));
