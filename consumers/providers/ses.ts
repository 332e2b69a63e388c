/**
 * Amazon SES v2 `SendEmail`, one message per call (SES has no batch send with per-recipient content and no
 * idempotency key: a call in flight when a process dies may be sent again — DESIGN §5.4). The call is made
 * exactly as `@aws-sdk/client-sesv2` makes it (`POST /v2/email/outbound-emails`, REST-JSON body of
 * `SendEmailCommandInput`, SigV4 by the SDK's own signer), but without the SDK's middleware stack, which was
 * the largest CPU cost per send after Postgres (sigv4-post.ts). There are no client retries: the queue owns
 * retries (backoff, token buckets, DLQ). Error answers are turned into errors shaped like the SDK's
 * (`name`, `message`, `$fault`, `$metadata.httpStatusCode`) and classified by `classifySesError`.
 */
import type { SendEmailCommandInput } from "@aws-sdk/client-sesv2";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "./interface";
import { parseRetryAfter } from "./outcome";
import { createSigV4Poster, type SigV4Response } from "./sigv4-post";

export interface SesOptions {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Sandbox URL locally; unset in production. */
  endpoint?: string;
  /** Temporary (STS) credentials carry one; sent as `x-amz-security-token`. */
  sessionToken?: string;
  /** Whole call, connect to last byte. Default 15 s. */
  timeoutMs?: number;
  /** TCP connect of a new connection. Default 5 s. */
  connectionTimeoutMs?: number;
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

/**
 * The request never authenticated: a wrong or revoked key, an expired session token, a clock far off. That is
 * an operator's configuration problem, not the recipient's, and failing every recipient of a batch with it
 * would burn the whole batch on one mistake. So it is `retry`: the batch stalls visibly, the operator fixes
 * the key (or the clock) and sending resumes; left unfixed, the chunk dead-letters with this reason.
 */
const CREDENTIALS = new Set([
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "InvalidClientTokenId",
  "ExpiredTokenException",
  "ExpiredToken",
]);

/** SDK-shaped error → outcome. Exported for unit tests. */
export function classifySesError(err: unknown): { kind: "retry" | "failed"; reason: string } {
  const e = err as { name?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const name = e?.name ?? "Error";
  const status = e?.$metadata?.httpStatusCode;
  const reason = `ses ${name}: ${e?.message ?? String(err)}`.slice(0, 500);
  if (THROTTLING.has(name) || CREDENTIALS.has(name)) return { kind: "retry", reason };
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

const SEND_EMAIL_PATH = "/v2/email/outbound-emails";

/** The SDK's `sanitizeErrorCode`: `Name:uri`, `ns#Name` and `Name,other` all mean `Name`. */
function errorCode(raw: unknown): string | undefined {
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  let v = String(raw);
  if (v.includes(",")) v = v.split(",")[0]!;
  if (v.includes(":")) v = v.split(":")[0]!;
  if (v.includes("#")) v = v.split("#")[1]!;
  v = v.trim();
  return v || undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface SesServiceError extends Error {
  $fault: "client" | "server";
  $metadata: { httpStatusCode: number; requestId?: string };
}

/** A non-2xx answer as the SDK would raise it. Exported for unit tests. */
export function sesServiceError(res: Pick<SigV4Response, "status" | "headers" | "body">): SesServiceError {
  const json = parseObject(res.body);
  const name = errorCode(res.headers["x-amzn-errortype"]) ?? errorCode(json?.__type) ?? errorCode(json?.code) ?? "UnknownError";
  const text = json?.message ?? json?.Message;
  const message = typeof text === "string" ? text : res.body.trim() ? res.body.trim().slice(0, 300) : `HTTP ${res.status}`;
  const requestId = res.headers["x-amzn-requestid"];
  const err = new Error(message) as SesServiceError;
  err.name = name;
  err.$fault = res.status >= 500 ? "server" : "client";
  err.$metadata = { httpStatusCode: res.status, requestId: typeof requestId === "string" ? requestId : undefined };
  return err;
}

function outcomeOf(m: OutgoingMessage, err: unknown, retryAfterMs?: number): SendOutcome {
  const c = classifySesError(err);
  if (c.kind === "failed") return { recipientId: m.recipientId, status: "failed", reason: c.reason };
  return retryAfterMs === undefined
    ? { recipientId: m.recipientId, status: "retry", reason: c.reason }
    : { recipientId: m.recipientId, status: "retry", reason: c.reason, retryAfterMs };
}

export function createSesClient(opts: SesOptions): ProviderClient {
  const poster = createSigV4Poster({
    endpoint: opts.endpoint ?? `https://email.${opts.region}.amazonaws.com`,
    region: opts.region,
    service: "ses",
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, sessionToken: opts.sessionToken },
    timeoutMs: opts.timeoutMs ?? 15_000,
    connectionTimeoutMs: opts.connectionTimeoutMs ?? 5_000,
  });

  async function sendOne(m: OutgoingMessage, signal?: AbortSignal): Promise<SendOutcome> {
    let res: SigV4Response;
    try {
      res = await poster.post(SEND_EMAIL_PATH, JSON.stringify(sesInput(m)), signal);
    } catch (err) {
      return outcomeOf(m, err);
    }
    if (res.status >= 200 && res.status < 300) {
      const messageId = parseObject(res.body)?.MessageId;
      if (typeof messageId === "string" && messageId) return { recipientId: m.recipientId, status: "sent", providerMessageId: messageId };
      // Probably sent, but without an id we cannot say so; SES has no idempotency key (DESIGN §5.4).
      return { recipientId: m.recipientId, status: "retry", reason: `ses: answer without MessageId (HTTP ${res.status}${res.truncated ? ", truncated" : ""})` };
    }
    const retryAfter = res.headers["retry-after"];
    return outcomeOf(m, sesServiceError(res), parseRetryAfter(typeof retryAfter === "string" ? retryAfter : undefined));
  }

  return {
    provider: "ses",
    maxPerCall: 1,
    send(messages, signal): Promise<SendOutcome[]> {
      // maxPerCall is 1, but be correct for any input: one SendEmail per message, in parallel.
      return Promise.all(messages.map((m) => sendOne(m, signal)));
    },
  };
}
