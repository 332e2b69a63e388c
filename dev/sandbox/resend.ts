/**
 * Resend `POST /emails` and `POST /emails/batch` (≤100, strict or `x-batch-validation: permissive`), Bearer
 * auth, Idempotency-Key per Resend's rules (24 h replay, 409 on a different body or while in flight) and
 * 429s with the IETF `ratelimit-*` headers. Error bodies are Resend's `{ statusCode, name, message }`.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { runSend, tagIds, timestamps, type SandboxState } from "./flow";
import { bearerToken, parseJson } from "./http";
import type { Reply, SandboxMessage } from "./types";

export function resendError(statusCode: number, name: string, message: string, headers: Record<string, string> = {}): Reply {
  return { status: statusCode, headers, body: { statusCode, name, message } };
}

const addressList = z.union([z.string(), z.array(z.string()).max(50)]);
const ResendEmail = z.looseObject({
  from: z.string().min(1),
  to: addressList,
  subject: z.string(),
  html: z.string().optional(),
  text: z.string().optional(),
  cc: addressList.optional(),
  bcc: addressList.optional(),
  reply_to: addressList.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  tags: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
});
type ResendEmail = z.infer<typeof ResendEmail>;

const ADDRESS_RE = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;
const TAG_RE = /^[A-Za-z0-9_-]{1,256}$/;
const MAX_BATCH = 100;

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const bare = (a: string) => /<([^>]+)>/.exec(a)?.[1]?.trim() ?? a.trim();

/** Resend's answer for one invalid email, or undefined when it is fine. */
function validate(raw: unknown): { ok: true; email: ResendEmail } | { ok: false; reply: Reply } {
  const parsed = ResendEmail.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? "body");
    const missing = issue.code === "invalid_type" && (raw as Record<string, unknown> | null)?.[field] === undefined;
    return missing
      ? { ok: false, reply: resendError(422, "missing_required_field", `Missing \`${field}\` field.`) }
      : { ok: false, reply: resendError(422, "validation_error", `Invalid \`${field}\` field: ${issue.message}`) };
  }
  const email = parsed.data;
  for (const [field, values] of [["from", [email.from]], ["to", list(email.to)], ["cc", list(email.cc)], ["bcc", list(email.bcc)], ["reply_to", list(email.reply_to)]] as const) {
    if (field === "to" && values.length === 0) return { ok: false, reply: resendError(422, "missing_required_field", "Missing `to` field.") };
    if (values.some((v) => !ADDRESS_RE.test(v.trim()))) {
      return { ok: false, reply: resendError(422, "validation_error", `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`) };
    }
  }
  if (email.html === undefined && email.text === undefined) return { ok: false, reply: resendError(422, "validation_error", "Missing `html` or `text` field.") };
  if (email.tags?.some((t) => !TAG_RE.test(t.name) || !TAG_RE.test(t.value))) {
    return { ok: false, reply: resendError(422, "validation_error", "Tags should only contain ASCII letters, numbers, underscores, or dashes.") };
  }
  return { ok: true, email };
}

function toMessages(email: ResendEmail, id: string, credential: string, idempotencyKey: string | undefined): Omit<SandboxMessage, "callStartedAtMs">[] {
  const at = timestamps();
  const ids = tagIds(email.tags);
  const recipients = [...list(email.to), ...list(email.cc), ...list(email.bcc)].map(bare);
  return recipients.map((to, i) => ({
    id: i === 0 ? id : `${id}#${i}`,
    provider: "resend",
    to,
    from: email.from,
    subject: email.subject,
    html: email.html,
    text: email.text,
    headers: email.headers,
    ...ids,
    idempotencyKey,
    credential,
    ...at,
  }));
}

export async function handleResend(state: SandboxState, kind: "single" | "batch", headers: IncomingHttpHeaders, body: Buffer): Promise<Reply> {
  if (!headers.authorization) return resendError(401, "missing_api_key", "Missing API key in the authorization header.");
  const apiKey = bearerToken(headers.authorization);
  if (!apiKey || !state.control.acceptsApiKey("resend", apiKey)) return resendError(403, "invalid_api_key", "API key is invalid.");

  const token = state.control.takeToken("resend");
  const rl: Record<string, string> =
    token.limit === undefined
      ? {}
      : { "ratelimit-limit": String(token.limit), "ratelimit-remaining": String(token.remaining), "ratelimit-reset": String(Math.max(1, Math.ceil(token.retryAfterMs / 1000))) };
  if (!token.ok) {
    return resendError(429, "rate_limit_exceeded", `Too many requests. You can only make ${token.limit} requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.`, {
      ...rl,
      "retry-after": rl["ratelimit-reset"]!,
    });
  }

  const key = typeof headers["idempotency-key"] === "string" ? headers["idempotency-key"] : undefined;
  if (key !== undefined && (key.length < 1 || key.length > 256)) return resendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");

  const json = parseJson(body);
  if (json === undefined) return resendError(422, "validation_error", "The request body is not valid JSON.");
  let emails: ResendEmail[];
  let rejected: { index: number; message: string }[] = [];
  if (kind === "single") {
    const v = validate(json);
    if (!v.ok) return v.reply;
    emails = [v.email];
  } else {
    if (!Array.isArray(json)) return resendError(422, "validation_error", "The request body must be an array of emails.");
    if (json.length === 0) return resendError(422, "validation_error", "The batch must contain at least 1 email.");
    if (json.length > MAX_BATCH) return resendError(422, "validation_error", `Too many emails in the batch: the maximum is ${MAX_BATCH}, got ${json.length}.`);
    const permissive = headers["x-batch-validation"] === "permissive";
    const results = json.map(validate);
    const firstBad = results.findIndex((r) => !r.ok);
    if (firstBad >= 0 && !permissive) {
      const r = results[firstBad] as { ok: false; reply: Reply };
      const b = r.reply.body as { message: string };
      return { ...r.reply, body: { ...b, message: `emails[${firstBad}]: ${b.message}` } };
    }
    emails = results.flatMap((r) => (r.ok ? [r.email] : []));
    rejected = results.flatMap((r, i) => (r.ok ? [] : [{ index: i, message: (r.reply.body as { message: string }).message }]));
  }

  return runSend(state, {
    provider: "resend",
    addresses: emails.flatMap((e) => [...list(e.to), ...list(e.cc), ...list(e.bcc)].map(bare)),
    faultReply: (k) => {
      if (k === "reject") return resendError(422, "validation_error", "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.");
      if (k === "throttle") {
        return resendError(429, "rate_limit_exceeded", "Too many requests. You can only make 2 requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.", {
          "ratelimit-limit": "2",
          "ratelimit-remaining": "0",
          "ratelimit-reset": "1",
          "retry-after": "1",
        });
      }
      return resendError(500, "application_error", "An unexpected error occurred, please try again later.");
    },
    idempotency:
      key === undefined
        ? undefined
        : {
            scope: `resend:${kind}:${apiKey}`,
            key,
            body,
            onMismatch: () => resendError(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload. Change your idempotency key or payload."),
            onInFlight: () => resendError(409, "concurrent_idempotent_requests", "Same idempotency key used while original request is still in progress. Try the request again later."),
          },
    accept: () => {
      const ids = emails.map(() => randomUUID());
      const messages = emails.flatMap((e, i) => toMessages(e, ids[i]!, apiKey, key));
      if (kind === "single") return { messages, reply: { status: 200, headers: rl, body: { id: ids[0] } } };
      const data = ids.map((id) => ({ id }));
      return { messages, reply: { status: 200, headers: rl, body: headers["x-batch-validation"] === "permissive" ? { data, errors: rejected } : { data } } };
    },
  });
}
