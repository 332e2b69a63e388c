/**
 * Provider event payloads → one normalised shape (core/contract ProviderEventMessage), per shared/PROVIDERS.md:
 * SES event publishing JSON (inside an SNS Notification), Resend `{type, created_at, data}`, Telnyx
 * `{data:{event_type, payload}}`. Pure functions: the route verifies first, these only read fields.
 * Anything unknown becomes `other` (accepted and logged by the consumer, never a 4xx the provider retries).
 */
import type { ProviderEventMessage, ProviderEventType } from "../../../core/contract";

type Normalised = Omit<ProviderEventMessage, "receivedAt">;
type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuid = (v: unknown) => (typeof v === "string" && UUID.test(v) ? v : undefined);
const clip = (v: string | undefined, n = 1000) => (v && v.length > n ? v.slice(0, n) : v);

const SES_TYPES: Record<string, ProviderEventType> = {
  Send: "sent",
  Delivery: "delivered",
  Bounce: "bounced",
  Complaint: "complained",
  Open: "opened",
  Click: "clicked",
  Reject: "failed",
  "Rendering Failure": "failed",
};

/** `message` is the SNS Notification's `Message` string; `eventId` its MessageId. */
export function normaliseSes(eventId: string, message: string, snsTimestamp: string): Normalised {
  let ev: Obj = {};
  try {
    ev = obj(JSON.parse(message));
  } catch {
    // not SES JSON: kept as `other` with the raw text
  }
  const name = str(ev.eventType) ?? str(ev.notificationType) ?? "unknown";
  const mail = obj(ev.mail);
  const tags = obj(mail.tags);
  const tag = (k: string) => (Array.isArray(tags[k]) ? (tags[k] as unknown[])[0] : undefined);
  const bounce = obj(ev.bounce);
  const type = SES_TYPES[name] ?? "other";
  const firstBounced = obj((bounce.bouncedRecipients as unknown[] | undefined)?.[0]);
  const detail = obj(ev[name.charAt(0).toLowerCase() + name.slice(1)]);
  return {
    provider: "ses",
    eventId,
    type,
    providerType: name,
    providerMessageId: str(mail.messageId),
    ...(type === "bounced" ? { bounceType: bounce.bounceType === "Permanent" ? "hard" : "soft" } : {}),
    tenantId: uuid(tag("tenant_id")),
    batchId: uuid(tag("batch_id")),
    recipientId: str(tag("recipient_id"))?.slice(0, 32),
    reason: clip(
      type === "bounced"
        ? [str(bounce.bounceType), str(bounce.bounceSubType), str(firstBounced.diagnosticCode)].filter(Boolean).join(": ")
        : type === "complained"
          ? str(obj(ev.complaint).complaintFeedbackType)
          : type === "failed"
            ? (str(obj(ev.reject).reason) ?? str(obj(ev.failure).errorMessage))
            : undefined,
    ),
    occurredAt: str(detail.timestamp) ?? snsTimestamp,
    raw: Object.keys(ev).length ? ev : message,
  };
}

const RESEND_TYPES: Record<string, ProviderEventType> = {
  "email.sent": "sent",
  "email.delivered": "delivered",
  "email.bounced": "bounced",
  "email.complained": "complained",
  "email.opened": "opened",
  "email.clicked": "clicked",
  "email.failed": "failed",
};

/** Resend tags arrive as `{name: value}` or as `[{name, value}]` depending on the API used to send. */
function resendTag(tags: unknown, name: string): unknown {
  if (Array.isArray(tags)) return (tags.find((t) => obj(t).name === name) as Obj | undefined)?.value;
  return obj(tags)[name];
}

export function normaliseResend(eventId: string, payload: unknown): Normalised {
  const p = obj(payload);
  const data = obj(p.data);
  const name = str(p.type) ?? "unknown";
  const type = RESEND_TYPES[name] ?? "other";
  const bounce = obj(data.bounce);
  return {
    provider: "resend",
    eventId,
    type,
    providerType: name,
    providerMessageId: str(data.email_id),
    ...(type === "bounced" ? { bounceType: bounce.type === "Permanent" ? "hard" : "soft" } : {}),
    tenantId: uuid(resendTag(data.tags, "tenant_id")),
    batchId: uuid(resendTag(data.tags, "batch_id")),
    recipientId: str(resendTag(data.tags, "recipient_id"))?.slice(0, 32),
    reason: clip(type === "bounced" ? [str(bounce.type), str(bounce.subType), str(bounce.message)].filter(Boolean).join(": ") : type === "failed" ? str(obj(data.failed).reason) : undefined),
    occurredAt: str(p.created_at) ?? new Date().toISOString(),
    raw: payload,
  };
}

const STOP_WORDS = new Set(["STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]);
const START_WORDS = new Set(["START", "UNSTOP"]);
const FAILED_SMS = new Set(["sending_failed", "delivery_failed", "expired"]);

export function normaliseTelnyx(eventId: string, payload: unknown): Normalised {
  const data = obj(obj(payload).data);
  const msg = obj(data.payload);
  const name = str(data.event_type) ?? "unknown";
  const to = obj((msg.to as unknown[] | undefined)?.[0]);
  const base = { provider: "telnyx" as const, eventId, providerType: name, occurredAt: str(data.occurred_at) ?? new Date().toISOString(), raw: payload };
  if (name === "message.received") {
    const word = (str(msg.text) ?? "").trim().toUpperCase();
    const type: ProviderEventType = STOP_WORDS.has(word) ? "stop" : START_WORDS.has(word) ? "start" : "other";
    return { ...base, type, address: str(obj(msg.from).phone_number), to: str(to.phone_number) };
  }
  const status = str(to.status);
  let type: ProviderEventType = "other";
  if (name === "message.sent") type = "sent";
  else if (name === "message.finalized") type = status === "delivered" ? "delivered" : status && FAILED_SMS.has(status) ? "failed" : "other";
  const err = obj((msg.errors as unknown[] | undefined)?.[0]);
  return {
    ...base,
    type,
    providerMessageId: str(msg.id),
    reason: type === "failed" ? clip([str(err.code), str(err.title), str(err.detail) ?? status].filter(Boolean).join(": ")) : undefined,
  };
}
