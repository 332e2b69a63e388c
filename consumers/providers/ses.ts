/**
 * Amazon SES v2 `SendEmail`, one message per call (SES has no batch send with per-recipient content and no
 * idempotency key: a call in flight when a process dies may be sent again — DESIGN §5.4). Signing is the
 * SDK's real SigV4; SDK retries are off because the queue owns retries (backoff, token buckets, DLQ).
 */
import { SendEmailCommand, SESv2Client, type SendEmailCommandInput } from "@aws-sdk/client-sesv2";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "./interface";

export interface SesOptions {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Sandbox URL locally; unset in production. */
  endpoint?: string;
  timeoutMs?: number;
}

const THROTTLING = new Set([
  "TooManyRequestsException",
  "LimitExceededException",
  "ThrottlingException",
  "Throttling",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "AbortError",
  "ServiceUnavailable",
  "InternalFailure",
  // Account-level pauses say nothing about the recipient; retrying (and finally the DLQ) is the honest outcome.
  "SendingPausedException",
]);

/** SDK error → outcome. Exported for unit tests. */
export function classifySesError(err: unknown): { kind: "retry" | "failed"; reason: string } {
  const e = err as { name?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const name = e?.name ?? "Error";
  const status = e?.$metadata?.httpStatusCode;
  const reason = `ses ${name}: ${e?.message ?? String(err)}`.slice(0, 500);
  if (THROTTLING.has(name)) return { kind: "retry", reason };
  if (status !== undefined) {
    if (status === 429 || status >= 500) return { kind: "retry", reason };
    return { kind: "failed", reason };
  }
  if (e?.$fault === "server") return { kind: "retry", reason };
  if (e?.$fault === "client" && name !== "Error") return { kind: "failed", reason };
  // No HTTP answer at all: connection refused/reset, DNS, socket timeout.
  return { kind: "retry", reason };
}

export function sesInput(m: OutgoingMessage, configurationSetName?: string): SendEmailCommandInput {
  const email = m.email;
  if (!email) throw new Error("ses: message without email content");
  const headers = Object.entries(email.headers ?? {}).map(([Name, Value]) => ({ Name, Value }));
  return {
    FromEmailAddress: email.from,
    Destination: { ToAddresses: [m.to] },
    ReplyToAddresses: email.replyTo ? [email.replyTo] : undefined,
    ConfigurationSetName: configurationSetName,
    Content: {
      Simple: {
        Subject: { Data: email.subject, Charset: "UTF-8" },
        Body: {
          Html: email.html !== undefined ? { Data: email.html, Charset: "UTF-8" } : undefined,
          Text: email.text !== undefined ? { Data: email.text, Charset: "UTF-8" } : undefined,
        },
        Headers: headers.length ? headers : undefined,
      },
    },
    // Tag values allow [A-Za-z0-9_-] only; uuids and numeric ids fit.
    EmailTags: [
      { Name: "batch_id", Value: m.tags.batchId },
      { Name: "recipient_id", Value: m.tags.recipientId },
      { Name: "tenant_id", Value: m.tags.tenantId },
    ],
  };
}

export function createSesClient(opts: SesOptions): ProviderClient {
  const client = new SESv2Client({
    region: opts.region,
    endpoint: opts.endpoint,
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    maxAttempts: 1,
    requestHandler: { requestTimeout: opts.timeoutMs ?? 15_000, connectionTimeout: 5_000 },
  });
  return {
    provider: "ses",
    maxPerCall: 1,
    async send(messages, signal): Promise<SendOutcome[]> {
      // maxPerCall is 1, but be correct for any input: one SendEmail per message, in parallel.
      return Promise.all(
        messages.map(async (m): Promise<SendOutcome> => {
          try {
            const out = await client.send(new SendEmailCommand(sesInput(m)), { abortSignal: signal });
            if (!out.MessageId) return { recipientId: m.recipientId, status: "retry", reason: "ses: answer without MessageId" };
            return { recipientId: m.recipientId, status: "sent", providerMessageId: out.MessageId };
          } catch (err) {
            const c = classifySesError(err);
            return c.kind === "retry"
              ? { recipientId: m.recipientId, status: "retry", reason: c.reason }
              : { recipientId: m.recipientId, status: "failed", reason: c.reason };
          }
        }),
      );
    },
  };
}
