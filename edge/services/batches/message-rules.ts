/**
 * From a create request to the stored payload (core/domain/payload.ts): send-config defaults applied, every
 * channel rule checked, every template parsed with the engine the consumers render with
 * (core/domain/templates.ts). All problems are collected into ONE 422 naming each field.
 */
import { headerNameProblem, headerValueProblem, mailboxProblem } from "../../../core/domain/email-message";
import { LIMITS, smsSegments, type SmsSegments } from "../../../core/domain/limits";
import { normalizePhone } from "../../../core/domain/address";
import type { BatchPayload } from "../../../core/domain/payload";
import { AppError } from "../../../core/domain/problem";
import { checkTemplates, type FieldError, type TemplateField } from "../../../core/domain/templates";
import type { CreateBatchInput } from "./create-batch-input";

export const DEFAULT_WEBHOOK_URL = "{{ to }}";

/** Hop-by-hop and framing headers the sender sets itself. */
const WEBHOOK_RESERVED = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "proxy-authorization", "expect"]);

export function fieldErrors(errors: FieldError[]): AppError {
  const first = errors[0]!;
  return new AppError("validation_failed", `${first.path}: ${first.message}`, { errors: errors.slice(0, 100) });
}

export interface BuiltPayload {
  payload: BatchPayload;
  /** SMS only: encoding and segments of the text template as written (variables may change them). */
  smsSegments?: SmsSegments;
}

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

function emailPayload(m: Extract<CreateBatchInput, { channel: "email" }>["message"], defaults: Record<string, unknown>, errors: FieldError[]): BatchPayload {
  const from = m.from ?? str(defaults.from);
  const replyTo = m.replyTo ?? str(defaults.replyTo);
  if (!from) errors.push({ path: "message.from", message: "required (the send config has no default)" });
  else {
    const p = mailboxProblem(from);
    if (p) errors.push({ path: "message.from", message: p });
  }
  if (replyTo) {
    const p = mailboxProblem(replyTo);
    if (p) errors.push({ path: "message.replyTo", message: p });
  }
  if (m.html === undefined && m.text === undefined) errors.push({ path: "message.html", message: "give html, text or both" });
  const headers = Object.entries(m.headers ?? {});
  if (headers.length > LIMITS.emailHeaders) errors.push({ path: "message.headers", message: `at most ${LIMITS.emailHeaders} headers` });
  for (const [name, value] of headers) {
    const p = headerNameProblem(name) ?? headerValueProblem(value);
    if (p) errors.push({ path: `message.headers.${name}`, message: p });
  }
  const fields: TemplateField[] = [
    { path: "message.subject", kind: "text", source: m.subject },
    { path: "message.html", kind: "html", source: m.html },
    { path: "message.text", kind: "text", source: m.text },
    ...headers.map(([name, value]) => ({ path: `message.headers.${name}`, kind: "text" as const, source: value })),
  ];
  errors.push(...checkTemplates(fields));
  return { channel: "email", from: from ?? "", replyTo, subject: m.subject, html: m.html, text: m.text, headers: m.headers };
}

function smsPayload(m: Extract<CreateBatchInput, { channel: "sms" }>["message"], defaults: Record<string, unknown>, errors: FieldError[]) {
  let from = m.from;
  if (from !== undefined) {
    // A number (E.164) or an alphanumeric sender id (1–11 letters/digits, at least one letter).
    const phone = normalizePhone(from);
    if (phone.ok) from = phone.address;
    else if (!/^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(from)) {
      errors.push({ path: "message.from", message: "must be an E.164 number or an alphanumeric sender id of 1–11 characters" });
    }
  } else if (!str(defaults.fromNumber) && !str(defaults.messagingProfileId)) {
    errors.push({ path: "message.from", message: "required (the send config has no default number)" });
  }
  errors.push(...checkTemplates([{ path: "message.text", kind: "text", source: m.text }]));
  const segments = smsSegments(m.text);
  if (segments.segments > 10) {
    errors.push({ path: "message.text", message: `needs ${segments.segments} ${segments.encoding} segments; at most 10` });
  }
  const payload: BatchPayload = { channel: "sms", from, text: m.text };
  return { payload, smsSegments: segments };
}

function webhookPayload(m: Extract<CreateBatchInput, { channel: "webhook" }>["message"], errors: FieldError[]): BatchPayload {
  const headers = Object.entries(m.headers ?? {});
  if (headers.length > LIMITS.webhookHeaders) errors.push({ path: "message.headers", message: `at most ${LIMITS.webhookHeaders} headers` });
  for (const [name, value] of headers) {
    if (!/^[A-Za-z0-9-]{1,100}$/.test(name)) errors.push({ path: `message.headers.${name}`, message: "header names are letters, digits and dashes" });
    else if (WEBHOOK_RESERVED.has(name.toLowerCase())) errors.push({ path: `message.headers.${name}`, message: `${name} is set by the sender` });
    else if (value.length > LIMITS.webhookHeaderValueChars || !/^[\x20-\x7e\t]*$/.test(value)) {
      errors.push({ path: `message.headers.${name}`, message: `header values are printable ASCII, at most ${LIMITS.webhookHeaderValueChars} characters` });
    }
  }
  const url = m.url ?? DEFAULT_WEBHOOK_URL;
  errors.push(
    ...checkTemplates([
      { path: "message.url", kind: "text", source: url },
      { path: "message.body", kind: "text", source: m.body },
      ...headers.map(([name, value]) => ({ path: `message.headers.${name}`, kind: "text" as const, source: value })),
    ]),
  );
  return { channel: "webhook", url, method: m.method ?? "POST", headers: m.headers, body: m.body };
}

/** Throws one 422 listing every problem of the message. */
export function buildPayload(body: CreateBatchInput, defaults: Record<string, unknown>): BuiltPayload {
  const errors: FieldError[] = [];
  let built: BuiltPayload;
  if (body.channel === "sms") built = smsPayload(body.message, defaults, errors);
  else if (body.channel === "webhook") built = { payload: webhookPayload(body.message, errors) };
  else built = { payload: emailPayload(body.message, defaults, errors) };
  if (errors.length) throw fieldErrors(errors);
  return built;
}
