/**
 * Telnyx `POST /v2/messages`: Bearer API key, `to` as one E.164 number (libphonenumber-js), `from` or
 * `messaging_profile_id`, errors as `{ errors: [{ code, title, detail, source, meta }] }` with Telnyx's codes
 * (10009 auth, 10011 rate limit, 10015 malformed, 40310 invalid `to`). A repeated `Idempotency-Key` returns the
 * original message and sends nothing; BatchSender's key `${batchId}:${recipientId}` is also how messages are
 * attributed, since Telnyx has no tags.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { z } from "zod";
import { idsFromIdempotencyKey, runSend, timestamps, type SandboxState } from "./flow";
import { bearerToken, parseJson } from "./http";
import type { Reply } from "./types";

export function telnyxError(status: number, code: string, title: string, detail: string, pointer?: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers,
    body: { errors: [{ code, title, detail, ...(pointer ? { source: { pointer } } : {}), meta: { url: `https://developers.telnyx.com/docs/overview/errors/${code}` } }] },
  };
}

const invalidTo = () => telnyxError(400, "40310", "Invalid 'to' address", "The 'to' address should be a single valid number.", "/to");

const SendMessage = z.looseObject({
  to: z.union([z.string(), z.array(z.string())]),
  from: z.string().optional(),
  messaging_profile_id: z.string().optional(),
  text: z.string().optional(),
  subject: z.string().optional(),
  media_urls: z.array(z.string()).optional(),
  type: z.enum(["SMS", "MMS"]).optional(),
  webhook_url: z.string().optional(),
});

export function isValidE164(to: string): boolean {
  if (!/^\+[1-9]\d{6,14}$/.test(to)) return false;
  const p = parsePhoneNumberFromString(to);
  return p !== undefined && p.isValid() && p.number === to;
}

// GSM 03.38 basic set; anything else forces UCS-2 (70/67 chars per part instead of 160/153).
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ^{}\\[~\]|€ÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]*$/;
function encodingOf(text: string): { encoding: "GSM-7" | "UCS-2"; parts: number } {
  const gsm = GSM7.test(text);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  return { encoding: gsm ? "GSM-7" : "UCS-2", parts: text.length <= single ? 1 : Math.ceil(text.length / multi) };
}

export async function handleTelnyx(state: SandboxState, headers: IncomingHttpHeaders, body: Buffer): Promise<Reply> {
  const apiKey = bearerToken(headers.authorization);
  if (!apiKey || !state.control.acceptsApiKey("telnyx", apiKey)) {
    return telnyxError(401, "10009", "Authentication failed", "The required authentication headers were either invalid or not included in the request.");
  }
  const token = state.control.takeToken("telnyx");
  if (!token.ok) {
    return telnyxError(429, "10011", "Too many requests", "You have exceeded the maximum number of allowed requests.", undefined, {
      "retry-after": String(Math.max(1, Math.ceil(token.retryAfterMs / 1000))),
    });
  }
  const parsed = SendMessage.safeParse(parseJson(body));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.path[0] === "to") return invalidTo();
    return telnyxError(400, "10015", "Bad Request", "The request failed because it was not well-formed.", issue?.path.length ? `/${issue.path.join("/")}` : undefined);
  }
  const input = parsed.data;
  const toList = Array.isArray(input.to) ? input.to : [input.to];
  const to = toList[0];
  if (toList.length !== 1 || to === undefined || !isValidE164(to)) return invalidTo();
  if (!input.from && !input.messaging_profile_id) {
    return telnyxError(400, "40305", "Invalid 'from' address", "Either 'from' or 'messaging_profile_id' must be provided.", "/from");
  }
  if (!input.text && !input.media_urls?.length) return telnyxError(400, "10004", "Missing required parameter", "The 'text' parameter is required.", "/text");

  const key = typeof headers["idempotency-key"] === "string" && headers["idempotency-key"] !== "" ? headers["idempotency-key"] : undefined;
  const original = (reply: Reply | undefined) => reply ?? telnyxError(422, "10012", "Duplicate resource", "A message with this idempotency key already exists.");
  return runSend(state, {
    provider: "telnyx",
    addresses: [to],
    faultReply: (kind) => {
      if (kind === "reject") return invalidTo();
      if (kind === "throttle") return telnyxError(429, "10011", "Too many requests", "You have exceeded the maximum number of allowed requests.", undefined, { "retry-after": "1" });
      return telnyxError(500, "10007", "Unexpected error", "An unexpected error occured.");
    },
    // Telnyx replays the first message for a repeated key (even with another body) and waits out an in-flight one.
    idempotency: key === undefined ? undefined : { scope: `telnyx:${apiKey}`, key, body, onMismatch: original },
    accept: () => {
      const id = randomUUID();
      const at = timestamps();
      const text = input.text ?? "";
      const type = input.type ?? (input.media_urls?.length ? "MMS" : "SMS");
      const data = {
        record_type: "message",
        direction: "outbound",
        id,
        type,
        messaging_profile_id: input.messaging_profile_id ?? null,
        organization_id: "00000000-0000-4000-8000-5a9db0c5a9db",
        from: { phone_number: input.from ?? null, carrier: "Telnyx", line_type: "Wireless" },
        to: [{ phone_number: to, status: "queued", carrier: "", line_type: "" }],
        text,
        subject: input.subject ?? null,
        media: (input.media_urls ?? []).map((url) => ({ url, content_type: null, sha256: null, size: null })),
        webhook_url: input.webhook_url ?? null,
        webhook_failover_url: null,
        ...encodingOf(text),
        tags: [],
        cost: null,
        received_at: at.receivedAt,
        sent_at: null,
        completed_at: null,
        valid_until: new Date(at.receivedAtMs + 4 * 3600_000).toISOString(),
        errors: [],
      };
      const message = { id, provider: "telnyx" as const, to, from: input.from ?? input.messaging_profile_id!, text, ...idsFromIdempotencyKey(key), idempotencyKey: key, credential: apiKey, ...at };
      return { messages: [message], reply: { status: 200, body: { data } } };
    },
  });
}
