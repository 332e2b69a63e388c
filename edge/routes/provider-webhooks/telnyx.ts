/**
 * `POST /webhooks/telnyx`: Telnyx messaging events signed with Ed25519 over `timestamp|body`
 * (verify-telnyx.ts, TELNYX_PUBLIC_KEY). Outbound `message.sent` / `message.finalized` and inbound
 * `message.received` (STOP / START replies). shared/PROVIDERS.md §4.
 */
import { openApiApp } from "../../http/openapi-app";
import { methodNotAllowed } from "../../http/problem";
import { normaliseTelnyx } from "../../services/provider-events/normalise";
import { verifyTelnyx } from "./verify-telnyx";
import { accept, NOT_CONFIGURED, rawBody, refuse, webhookRoute } from "./webhook-route";

export const telnyxWebhookRoutes = openApiApp();

telnyxWebhookRoutes.openapi(webhookRoute("telnyx", "application/json", "Telnyx messaging events (Ed25519-signed)"), async (c) => {
  const key = c.get("config").TELNYX_PUBLIC_KEY;
  if (!key) throw NOT_CONFIGURED("Telnyx");
  const body = await rawBody(c, "telnyx");
  const v = await verifyTelnyx(body, c.req.raw.headers, key);
  if (!v.ok) return refuse("telnyx", v.reason === "malformed" ? "bad_request" : v.reason === "bad_key" ? "internal" : "unauthorized", v.reason);
  const { eventId } = await accept(c, normaliseTelnyx(v.id, v.payload));
  return c.json({ received: true as const, eventId }, 200);
});
telnyxWebhookRoutes.all("/", methodNotAllowed(["POST"]));
