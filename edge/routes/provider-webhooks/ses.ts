/**
 * `POST /webhooks/ses`: SES events through an SNS HTTPS subscription (shared/PROVIDERS.md §1). The SNS
 * signature is checked (verify-sns.ts: SignatureVersion 1 and 2, certificate only from SNS_CERT_HOST_PATTERN,
 * cached per isolate), notifications only from SNS_TOPIC_ARNS. A SubscriptionConfirmation is confirmed only
 * for a configured topic, by a GET of its SubscribeURL after the same host check — never an arbitrary URL.
 */
import { openApiApp } from "../../http/openapi-app";
import { methodNotAllowed } from "../../http/problem";
import { normaliseSes } from "../../services/provider-events/normalise";
import { countWebhookFailure } from "../../services/provider-events/failures";
import { verifySnsMessage, type SnsFailure } from "./verify-sns";
import { accept, NOT_CONFIGURED, rawBody, refuse, webhookRoute } from "./webhook-route";

export const sesWebhookRoutes = openApiApp();

const STATUS_OF: Record<SnsFailure, "bad_request" | "unauthorized"> = {
  malformed: "bad_request",
  unsupported_signature_version: "unauthorized",
  cert_url_not_allowed: "unauthorized",
  cert_unavailable: "unauthorized",
  bad_signature: "unauthorized",
  stale: "unauthorized",
  topic_not_allowed: "unauthorized",
};

sesWebhookRoutes.openapi(webhookRoute("ses", "text/plain", "Amazon SES events via SNS (signed SNS messages)"), async (c) => {
  const config = c.get("config");
  if (config.SNS_TOPIC_ARNS.length === 0) throw NOT_CONFIGURED("SES");
  const body = await rawBody(c, "ses");
  const v = await verifySnsMessage(body, { topicArns: config.SNS_TOPIC_ARNS, certHostPattern: config.SNS_CERT_HOST_PATTERN, allowHttpCertUrl: config.SNS_CERT_ALLOW_HTTP });
  if (!v.ok) return refuse("ses", STATUS_OF[v.reason], v.reason);
  if (v.type !== "Notification") {
    if (v.action === "ignore" || v.type === "UnsubscribeConfirmation") {
      countWebhookFailure("ses", `subscription_${v.type === "UnsubscribeConfirmation" ? "unsubscribe" : "ignored"}`);
      return c.json({ received: true as const, subscription: "ignored" as const }, 200);
    }
    // SubscribeURL passed the same host check as the certificate (verify-sns.ts); no redirects followed.
    const res = await fetch(v.subscribeUrl, { redirect: "manual", signal: AbortSignal.timeout(5000) }).catch((err: unknown) => err as Error);
    if (res instanceof Error || !res.ok) {
      countWebhookFailure("ses", "subscription_confirm_failed", res instanceof Error ? res : new Error(`status ${res.status}`));
      return refuse("ses", "unavailable", "subscription_confirm_failed");
    }
    await res.body?.cancel();
    console.log(JSON.stringify({ msg: "SNS subscription confirmed", topicArn: v.topicArn }));
    return c.json({ received: true as const, subscription: "confirmed" as const }, 200);
  }
  const { eventId } = await accept(c, normaliseSes(v.messageId, v.message, v.timestamp));
  return c.json({ received: true as const, eventId }, 200);
});
sesWebhookRoutes.all("/", methodNotAllowed(["POST"]));
