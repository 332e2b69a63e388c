/**
 * One place that decides whether a provider answer can be retried (CONVENTIONS 8). Retryable outcomes
 * (429, throttling, 5xx, timeouts, network errors) are released back to `queued` and retried with backoff;
 * they are never recorded as failures. Everything else that is not a success fails the recipient with the
 * provider's reason.
 */
import type { OutgoingMessage, SendOutcome } from "./interface";

export type HttpClass = { kind: "retry"; retryAfterMs?: number } | { kind: "failed" };

export function classifyHttpStatus(status: number, retryAfterHeader?: string | null): HttpClass {
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    return { kind: "retry", retryAfterMs: parseRetryAfter(retryAfterHeader) };
  }
  return { kind: "failed" };
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Errors thrown by fetch itself: timeouts, resets, refused connections. A retry can help with all of them. */
export function networkFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "timeout";
  return `network error: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)}`;
}

type OutcomeWithoutId = SendOutcome extends infer T ? (T extends SendOutcome ? Omit<T, "recipientId"> : never) : never;

/** The same outcome for every message of one call (batch calls fail or succeed together). */
export function allOutcomes(messages: OutgoingMessage[], outcome: OutcomeWithoutId): SendOutcome[] {
  return messages.map((m) => ({ ...outcome, recipientId: m.recipientId }) as SendOutcome);
}

/** Trims provider error bodies so `last_error` stays readable. */
export function reasonFrom(prefix: string, body: unknown): string {
  let detail: string;
  if (typeof body === "string") detail = body;
  else {
    const b = body as { message?: unknown; error?: unknown; name?: unknown; errors?: { title?: string; detail?: string; code?: string }[] };
    if (Array.isArray(b?.errors) && b.errors[0]) {
      const e = b.errors[0];
      detail = [e.code, e.title, e.detail].filter(Boolean).join(" ");
    } else detail = String(b?.message ?? b?.error ?? b?.name ?? JSON.stringify(body));
  }
  return `${prefix}: ${detail}`.slice(0, 500);
}
