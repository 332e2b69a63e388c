/**
 * Size caps on what a tenant may hand us, checked at creation (422 with a field path) and again after
 * rendering in the consumers (a recipient whose rendered message exceeds what its provider accepts fails
 * alone, with the reason). One table, so the edge and the consumers never disagree (DESIGN §5.10).
 *
 * Provider figures (PROVIDERS.md): SES v2 40 MB per message after base64, ≤ 15 custom headers, header name
 * 1–126 printable ASCII without ':', value ≤ 870 characters, subject ≤ 998; Resend 40 MB; Telnyx at most 10
 * segments (GSM-7 160/153, UCS-2 70/67 characters per single/multipart segment). The platform's own caps are
 * lower where a larger value would only let one tenant's chunk hold a consumer's memory.
 *
 * Edge-safe: no node:* imports.
 */
import { SegmentedMessage } from "sms-segments-calculator";

export const LIMITS = {
  /** Recipients in one JSON request (create or append); larger lists stream as NDJSON/CSV. */
  recipientsPerRequest: 10_000,
  recipientsPerBatch: 1_000_000,
  /**
   * A streamed (NDJSON/CSV) upload's body: 1,000,000 recipients with a few variables each. Cloudflare's own
   * cap per plan (100 MB Free/Pro, 200 MB Business, 500 MB Enterprise) applies before this one.
   */
  streamedBodyBytes: 256 * 1024 * 1024,
  /** Serialized (UTF-8 JSON) size of one recipient's variables: 50 recipients × 16 KiB = 800 KiB per chunk. */
  variablesBytes: 16 * 1024,
  /** Nesting depth of one recipient's variables (an object or array inside another counts one level). */
  variablesDepth: 8,
  /** Template sources. */
  subjectChars: 998,
  htmlBytes: 512 * 1024,
  textBytes: 512 * 1024,
  smsTemplateChars: 1600,
  webhookBodyTemplateBytes: 256 * 1024,
  /** Custom email headers (SES's rules, the strictest of the email providers). */
  emailHeaders: 15,
  headerNameChars: 126,
  headerValueChars: 870,
  webhookHeaders: 20,
  webhookHeaderValueChars: 2000,
  /** How far ahead a batch may be scheduled (Resend and SendGrid allow 72 h; a month covers campaigns). */
  scheduleAheadDays: 30,
} as const;

/**
 * `scheduledAt` must lie in the future and at most `scheduleAheadDays` ahead; the message of a 422 otherwise.
 * Checked when the batch is created; a draft sent after its time has passed is queued at once.
 */
export function scheduledAtProblem(at: Date, now: Date = new Date()): string | undefined {
  if (Number.isNaN(at.getTime())) return "must be a timestamp";
  if (at.getTime() <= now.getTime()) return "must be in the future";
  if (at.getTime() > now.getTime() + LIMITS.scheduleAheadDays * 86_400_000) return `must be at most ${LIMITS.scheduleAheadDays} days ahead`;
  return undefined;
}

/** What a provider accepts once a recipient's message is rendered. */
export const RENDERED_LIMITS = {
  /** Subject + bodies + headers of one rendered email, in UTF-8 bytes (platform cap; SES and Resend allow 40 MB). */
  emailContentBytes: 2 * 1024 * 1024,
  subjectChars: 998,
  headerValueChars: 870,
  /** Telnyx: at most 10 segments per message. */
  smsSegments: 10,
  webhookBodyBytes: 256 * 1024,
} as const;

const encoder = new TextEncoder();

export function utf8Bytes(s: string): number {
  return encoder.encode(s).length;
}

/**
 * Depth of a JSON value: a scalar is 0, `{a:1}` is 1, `{a:{b:1}}` is 2. Exact up to `max`; past it the
 * result is only guaranteed to be greater than `max`: it never descends more than `max + 1` levels, so a
 * hostile 200,000-level nesting cannot overflow the stack.
 */
export function jsonDepth(value: unknown, max = Infinity): number {
  if (value === null || typeof value !== "object") return 0;
  if (max < 0) return 1; // already past the limit: do not descend
  let deepest = 0;
  const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
  for (const child of children) {
    const d = jsonDepth(child, max - 1);
    if (d > deepest) deepest = d;
    if (deepest > max) break;
  }
  return deepest + 1;
}

/** Why a recipient's variables are refused, or undefined when they are within the caps. */
export function variablesProblem(vars: unknown): string | undefined {
  if (vars === undefined) return undefined;
  if (vars === null || typeof vars !== "object" || Array.isArray(vars)) return "variables must be a JSON object";
  if (jsonDepth(vars, LIMITS.variablesDepth) > LIMITS.variablesDepth) {
    return `variables are nested more than ${LIMITS.variablesDepth} levels deep`;
  }
  const bytes = utf8Bytes(JSON.stringify(vars));
  if (bytes > LIMITS.variablesBytes) return `variables are ${bytes} bytes serialized; at most ${LIMITS.variablesBytes}`;
  return undefined;
}

export interface SmsSegments {
  encoding: "GSM-7" | "UCS-2";
  segments: number;
  /** Characters as the network counts them (GSM-7 escape characters such as `{` count twice). */
  characters: number;
}

export function smsSegments(text: string): SmsSegments {
  const m = new SegmentedMessage(text, "auto");
  return {
    encoding: m.encodingName === "UCS-2" ? "UCS-2" : "GSM-7",
    segments: m.segmentsCount,
    characters: m.numberOfCharacters,
  };
}

export interface RenderedEmail {
  subject: string;
  html?: string;
  text?: string;
  headers?: Record<string, string>;
}

/** Why a rendered email is refused by its provider, or undefined. */
export function renderedEmailProblem(e: RenderedEmail): string | undefined {
  if (e.subject.length > RENDERED_LIMITS.subjectChars) {
    return `rendered subject is ${e.subject.length} characters; at most ${RENDERED_LIMITS.subjectChars}`;
  }
  let bytes = utf8Bytes(e.subject) + utf8Bytes(e.html ?? "") + utf8Bytes(e.text ?? "");
  for (const [name, value] of Object.entries(e.headers ?? {})) {
    if (value.length > RENDERED_LIMITS.headerValueChars) {
      return `rendered header ${name} is ${value.length} characters; at most ${RENDERED_LIMITS.headerValueChars}`;
    }
    bytes += utf8Bytes(name) + utf8Bytes(value);
  }
  if (bytes > RENDERED_LIMITS.emailContentBytes) {
    return `rendered email is ${bytes} bytes; at most ${RENDERED_LIMITS.emailContentBytes}`;
  }
  return undefined;
}

/** Why a rendered SMS is refused (too many segments), or undefined. */
export function renderedSmsProblem(text: string): string | undefined {
  if (text.length === 0) return "rendered SMS text is empty";
  const s = smsSegments(text);
  if (s.segments > RENDERED_LIMITS.smsSegments) {
    return `rendered SMS needs ${s.segments} ${s.encoding} segments; at most ${RENDERED_LIMITS.smsSegments}`;
  }
  return undefined;
}

export function renderedWebhookProblem(body: string): string | undefined {
  const bytes = utf8Bytes(body);
  if (bytes > RENDERED_LIMITS.webhookBodyBytes) return `rendered webhook body is ${bytes} bytes; at most ${RENDERED_LIMITS.webhookBodyBytes}`;
  return undefined;
}
