/**
 * What a provider client does: send one provider call's worth of already-rendered messages and say, per
 * message, what happened. Transport and protocol errors become per-message results here, classified once:
 * `retryable` results (429, throttling, 5xx, timeouts) are never recorded as failures.
 */
import type { Provider } from "../../core/domain/channels";

export interface OutgoingMessage {
  recipientId: number;
  /** Stable across redeliveries of the same recipient: `${batchId}:${recipientId}`. */
  idempotencyKey: string;
  to: string;
  /** Channel-specific rendered content. */
  email?: {
    from: string;
    replyTo?: string;
    subject: string;
    html?: string;
    text?: string;
    headers?: Record<string, string>;
  };
  sms?: { from?: string; messagingProfileId?: string; text: string };
  webhook?: { method: string; headers: Record<string, string>; body: string };
  /** Tags that let the sandbox and provider events point back at us. */
  tags: { batchId: string; tenantId: string; recipientId: string };
}

export type SendOutcome =
  | { recipientId: number; status: "sent"; providerMessageId: string }
  | { recipientId: number; status: "failed"; reason: string }
  | { recipientId: number; status: "retry"; reason: string; retryAfterMs?: number };

export interface ProviderClient {
  readonly provider: Provider;
  /** Largest number of messages one provider call carries (SES 1, Resend batch 100, Telnyx 1, webhook 1). */
  readonly maxPerCall: number;
  send(messages: OutgoingMessage[], signal?: AbortSignal): Promise<SendOutcome[]>;
}
