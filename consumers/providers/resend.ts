/**
 * Resend: `POST /emails` for one message, `POST /emails/batch` for up to 100 (one request, one token from the
 * request bucket). Idempotency (DESIGN §5):
 * - single sends use the recipient's own key `${batchId}:${recipientId}`;
 * - Resend's batch idempotency is per *request* (one key for the whole array, 24 h), so a batch call uses a
 *   key derived from the batch id and the sorted recipient ids of that call. A redelivered chunk re-claims
 *   exactly the rows of a call that did not record (calls record as a unit), so it rebuilds the same call
 *   with the same key and Resend replays the original answer instead of sending again.
 * Strict validation (Resend's default) rejects the whole array for one bad message; on such a 4xx we resend
 * that call's messages one by one with their single keys, so one invalid address fails only itself.
 */
import { createHash } from "node:crypto";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "./interface";
import { callSignal } from "./deadlines";
import { allOutcomes, classifyHttpStatus, networkFailure, reasonFrom } from "./outcome";

export interface ResendOptions {
  apiUrl: string;
  apiKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function batchIdempotencyKey(messages: OutgoingMessage[]): string {
  const batchId = messages[0]?.tags.batchId ?? "";
  const ids = messages.map((m) => m.recipientId).sort((a, b) => a - b);
  const digest = createHash("sha256").update(ids.join(",")).digest("hex").slice(0, 32);
  return `batch:${batchId}:${digest}`;
}

function resendBody(m: OutgoingMessage) {
  const e = m.email;
  if (!e) throw new Error("resend: message without email content");
  return {
    from: e.from,
    to: [m.to],
    subject: e.subject,
    html: e.html,
    text: e.text,
    reply_to: e.replyTo,
    headers: e.headers && Object.keys(e.headers).length ? e.headers : undefined,
    // Tag values allow ASCII letters, numbers, underscores and dashes only; our ids fit.
    tags: [
      { name: "batch_id", value: m.tags.batchId },
      { name: "recipient_id", value: m.tags.recipientId },
      { name: "tenant_id", value: m.tags.tenantId },
    ],
  };
}

export function createResendClient(opts: ResendOptions): ProviderClient {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.apiUrl.replace(/\/+$/, "");

  /** One POST and its JSON answer, both within the timeout (one shared deadline sweep, deadlines.ts). */
  async function call<T>(path: string, key: string, body: unknown, signal?: AbortSignal): Promise<{ res: Response; json: T }> {
    const deadline = callSignal(opts.timeoutMs ?? 15_000, signal);
    try {
      const res = await doFetch(`${base}${path}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${opts.apiKey}`,
          "content-type": "application/json",
          "idempotency-key": key,
        },
        body: JSON.stringify(body),
        signal: deadline.signal,
      });
      return { res, json: (await res.json().catch(() => ({}))) as T };
    } finally {
      deadline.done();
    }
  }

  async function sendOne(m: OutgoingMessage, signal?: AbortSignal): Promise<SendOutcome> {
    try {
      const { res, json } = await call<{ id?: string }>("/emails", m.idempotencyKey, resendBody(m), signal);
      if (res.ok && json.id) return { recipientId: m.recipientId, status: "sent", providerMessageId: json.id };
      return fromError(m, res, json);
    } catch (err) {
      return { recipientId: m.recipientId, status: "retry", reason: `resend ${networkFailure(err)}` };
    }
  }

  return {
    provider: "resend",
    maxPerCall: 100,
    async send(messages, signal) {
      if (messages.length === 0) return [];
      if (messages.length === 1) return [await sendOne(messages[0]!, signal)];
      let res: Response;
      let json: { data?: { id?: string }[] } & Record<string, unknown>;
      try {
        ({ res, json } = await call<typeof json>("/emails/batch", batchIdempotencyKey(messages), messages.map(resendBody), signal));
      } catch (err) {
        return allOutcomes(messages, { status: "retry", reason: `resend ${networkFailure(err)}` });
      }
      if (res.ok && Array.isArray(json.data) && json.data.length === messages.length) {
        return messages.map((m, i) => {
          const id = json.data![i]?.id;
          return id
            ? { recipientId: m.recipientId, status: "sent", providerMessageId: id }
            : { recipientId: m.recipientId, status: "retry", reason: "resend: batch answer without id" };
        });
      }
      const c = classifyHttpStatus(res.status, res.headers.get("retry-after"));
      if (c.kind === "retry" || res.status === 409) {
        return allOutcomes(messages, { status: "retry", reason: reasonFrom(`resend ${res.status}`, json), retryAfterMs: c.kind === "retry" ? c.retryAfterMs : undefined });
      }
      if (res.status === 401 || res.status === 403) {
        // Our credentials, not the recipients: every message fails with the provider's words.
        return allOutcomes(messages, { status: "failed", reason: reasonFrom(`resend ${res.status}`, json) });
      }
      // Strict validation refused the whole array: find the bad ones by sending singly.
      const out: SendOutcome[] = [];
      for (const m of messages) out.push(await sendOne(m, signal));
      return out;
    },
  };
}

function fromError(m: OutgoingMessage, res: Response, json: unknown): SendOutcome {
  const c = classifyHttpStatus(res.status, res.headers.get("retry-after"));
  const reason = reasonFrom(`resend ${res.status}`, json);
  // 409 = the same key is still being processed (concurrent_idempotent_requests): wait and ask again.
  if (c.kind === "retry" || res.status === 409) return { recipientId: m.recipientId, status: "retry", reason, retryAfterMs: c.kind === "retry" ? c.retryAfterMs : undefined };
  return { recipientId: m.recipientId, status: "failed", reason };
}
