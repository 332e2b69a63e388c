/**
 * Telnyx `POST /v2/messages`, one SMS per call, with `Idempotency-Key` = `${batchId}:${recipientId}` so a
 * redelivered chunk never texts anyone twice. Numbers are checked as E.164 (libphonenumber-js) before the
 * call: an invalid number fails that recipient without spending a request token's worth of provider time.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "./interface";
import { callSignal } from "./deadlines";
import { classifyHttpStatus, networkFailure, reasonFrom } from "./outcome";

export interface TelnyxOptions {
  apiUrl: string;
  apiKey: string;
  messagingProfileId?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** True when `to` is a valid number written in E.164 (`+` and digits, nothing else). */
export function isE164(to: string): boolean {
  if (!/^\+[1-9]\d{6,14}$/.test(to)) return false;
  const parsed = parsePhoneNumberFromString(to);
  return parsed !== undefined && parsed.isValid() && parsed.number === to;
}

/**
 * Telnyx error codes that a retry can fix even though they come with a 4xx
 * (https://developers.telnyx.com/docs/messaging/messages/error-codes): rate limits and temporary blocks.
 */
const RETRYABLE_CODES = new Set(["10011", "40002", "40006", "40014", "50001", "50003"]);

export function classifyTelnyxError(status: number, body: unknown, retryAfter?: string | null): { kind: "retry" | "failed"; reason: string; retryAfterMs?: number } {
  const reason = reasonFrom(`telnyx ${status}`, body);
  const code = String((body as { errors?: { code?: string | number }[] })?.errors?.[0]?.code ?? "");
  const c = classifyHttpStatus(status, retryAfter);
  if (c.kind === "retry") return { kind: "retry", reason, retryAfterMs: c.retryAfterMs };
  if (RETRYABLE_CODES.has(code)) return { kind: "retry", reason };
  return { kind: "failed", reason };
}

export function createTelnyxClient(opts: TelnyxOptions): ProviderClient {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.apiUrl.replace(/\/+$/, "");

  async function sendOne(m: OutgoingMessage, signal?: AbortSignal): Promise<SendOutcome> {
    const sms = m.sms;
    if (!sms) return { recipientId: m.recipientId, status: "failed", reason: "telnyx: message without sms content" };
    if (!isE164(m.to)) return { recipientId: m.recipientId, status: "failed", reason: `telnyx: invalid E.164 number ${m.to}` };
    // One shared deadline sweep for every call in flight (deadlines.ts), covering the answer's body too.
    const deadline = callSignal(opts.timeoutMs ?? 15_000, signal);
    try {
      const res = await doFetch(`${base}/v2/messages`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${opts.apiKey}`,
          "content-type": "application/json",
          "idempotency-key": m.idempotencyKey,
        },
        body: JSON.stringify({
          to: m.to,
          from: sms.from,
          messaging_profile_id: sms.messagingProfileId ?? opts.messagingProfileId,
          text: sms.text,
          type: "SMS",
        }),
        signal: deadline.signal,
      });
      const json = (await res.json().catch(() => ({}))) as { data?: { id?: string } };
      if (res.ok && json.data?.id) return { recipientId: m.recipientId, status: "sent", providerMessageId: json.data.id };
      if (res.ok) return { recipientId: m.recipientId, status: "retry", reason: "telnyx: answer without message id" };
      const c = classifyTelnyxError(res.status, json, res.headers.get("retry-after"));
      return c.kind === "retry"
        ? { recipientId: m.recipientId, status: "retry", reason: c.reason, retryAfterMs: c.retryAfterMs }
        : { recipientId: m.recipientId, status: "failed", reason: c.reason };
    } catch (err) {
      return { recipientId: m.recipientId, status: "retry", reason: `telnyx ${networkFailure(err)}` };
    } finally {
      deadline.done();
    }
  }

  return {
    provider: "telnyx",
    maxPerCall: 1,
    async send(messages, signal) {
      return Promise.all(messages.map((m) => sendOne(m, signal)));
    },
  };
}
