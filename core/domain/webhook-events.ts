/**
 * Customer webhook event types (issue 9 item 8), defined once: the endpoint API validates its filters against
 * this list and the delivery job emits only these. An endpoint with an empty filter receives every type.
 *
 * Secrets follow the Standard Webhooks format: `whsec_` + base64 of 32 random bytes (the spec asks for
 * 24–64), the form the `standardwebhooks` library accepts. After a rotation the previous secret keeps
 * signing for `SECRET_ROTATION_OVERLAP_SECONDS`, so receivers can switch at their own pace (both signatures
 * travel in one `webhook-signature` header meanwhile).
 *
 * Edge-safe: no node:* imports.
 */
export const WEBHOOK_EVENT_TYPES = [
  "recipient.sent",
  "recipient.delivered",
  "recipient.bounced",
  "recipient.complained",
  "recipient.opened",
  "recipient.clicked",
  "recipient.failed",
  "recipient.suppressed",
  "recipient.unsubscribed",
  "batch.completed",
  "batch.paused",
  "batch.failed",
  "endpoint.disabled",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
export const SECRET_ROTATION_OVERLAP_SECONDS = 24 * 60 * 60;

export function generateWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return WEBHOOK_SECRET_PREFIX + btoa(String.fromCharCode(...bytes));
}

/** Whether an endpoint with this filter receives `type` (empty filter = everything). */
export function endpointWants(filter: readonly string[], type: string): boolean {
  return filter.length === 0 || filter.includes(type);
}

/**
 * A delivery's life: `pending` (due at next_attempt_at), then `delivered` (a 2xx) or `failed` (its retry
 * schedule ran out). A manual replay puts a delivery back to `pending`, due now, with a fresh schedule.
 */
export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
