/**
 * Amazon SES v2 `SendEmail` (`POST /v2/email/outbound-emails`, REST-JSON) as AWS serves it: SigV4 checked,
 * errors as `x-amzn-ErrorType` + `{"message"}` so the AWS SDK raises the same exception names (`BadRequestException`,
 * `MessageRejected`, `TooManyRequestsException` 429 "Maximum sending rate exceeded.", `SignatureDoesNotMatch`…).
 * SES has no idempotency key: every accepted call is a new message.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { runSend, tagIds, timestamps, type SandboxState } from "./flow";
import { parseJson } from "./http";
import { parseRawEmail } from "./raw-email";
import { verifySigV4, type SignedRequest } from "./sigv4";
import type { Reply, SandboxMessage } from "./types";

export function sesError(status: number, type: string, message: string, extra: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`, "x-amzn-requestid": randomUUID(), ...extra },
    body: { message },
  };
}

const Text = z.object({ Data: z.string(), Charset: z.string().optional() });
const Tag = z.object({ Name: z.string(), Value: z.string() });
const SendEmailInput = z.looseObject({
  FromEmailAddress: z.string().optional(),
  Destination: z
    .object({ ToAddresses: z.array(z.string()).optional(), CcAddresses: z.array(z.string()).optional(), BccAddresses: z.array(z.string()).optional() })
    .optional(),
  ReplyToAddresses: z.array(z.string()).optional(),
  Content: z.object({
    Simple: z
      .object({
        Subject: Text,
        Body: z.object({ Text: Text.optional(), Html: Text.optional() }),
        Headers: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
      })
      .optional(),
    Raw: z.object({ Data: z.string() }).optional(),
    Template: z.unknown().optional(),
  }),
  EmailTags: z.array(Tag).optional(),
  ConfigurationSetName: z.string().optional(),
});

const ADDRESS_RE = /^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/;
const TAG_RE = /^[A-Za-z0-9_-]{1,256}$/;

/** SES message ids look like `0107018f5c6e7a8b-1a2b3c4d-…-000000`. */
function sesMessageId(): string {
  return `0107${Date.now().toString(16).padStart(12, "0")}-${randomUUID()}-000000`;
}

function bareAddress(a: string): string {
  return /<([^>]+)>/.exec(a)?.[1]?.trim() ?? a.trim();
}

export async function handleSesSendEmail(state: SandboxState, req: SignedRequest): Promise<Reply> {
  const sig = await verifySigV4(req, (id) => state.control.sesKey(id), "ses");
  if (!sig.ok) return sesError(sig.status, sig.type, sig.message);

  const token = state.control.takeToken("ses");
  if (!token.ok) return sesError(429, "TooManyRequestsException", "Maximum sending rate exceeded.");

  const json = parseJson(req.body);
  if (json === undefined) return sesError(400, "SerializationException", "Start of structure or map found where not expected.");
  const parsed = SendEmailInput.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return sesError(400, "BadRequestException", `Invalid request: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "malformed JSON"}`);
  }
  const input = parsed.data;
  const { Simple, Raw, Template } = input.Content;
  if ([Simple, Raw, Template].filter((c) => c !== undefined).length !== 1) {
    return sesError(400, "BadRequestException", "Exactly one of Simple, Raw or Template content must be specified.");
  }
  if (Template !== undefined) return sesError(400, "BadRequestException", "Template content is not supported by the BatchSender sandbox.");

  let content: Pick<SandboxMessage, "from" | "subject" | "html" | "text" | "headers">;
  let rawRecipients: string[] = [];
  if (Simple) {
    if (!input.FromEmailAddress) return sesError(400, "BadRequestException", "Missing required parameter FromEmailAddress.");
    const headers = Simple.Headers?.length ? Object.fromEntries(Simple.Headers.map((h) => [h.Name, h.Value])) : undefined;
    content = { from: input.FromEmailAddress, subject: Simple.Subject.Data, html: Simple.Body.Html?.Data, text: Simple.Body.Text?.Data, headers };
    if (content.html === undefined && content.text === undefined) return sesError(400, "BadRequestException", "Message body must contain Text or Html.");
  } else {
    const raw = parseRawEmail(Buffer.from(Raw!.Data, "base64").toString("utf8"));
    const from = input.FromEmailAddress ?? raw.headers.from;
    if (!from) return sesError(400, "BadRequestException", "Missing required header 'From'.");
    content = { from, subject: raw.headers.subject, html: raw.html, text: raw.text, headers: raw.headers };
    rawRecipients = raw.recipients;
  }

  const d = input.Destination;
  const to = d ? [...(d.ToAddresses ?? []), ...(d.CcAddresses ?? []), ...(d.BccAddresses ?? [])] : rawRecipients;
  if (to.length === 0) return sesError(400, "BadRequestException", "Missing required parameter Destination.");
  if (to.length > 50) return sesError(400, "BadRequestException", "Recipient count exceeds 50.");
  for (const a of [content.from, ...to]) {
    if (!ADDRESS_RE.test(a.trim())) return sesError(400, "BadRequestException", `Illegal address: ${a}`);
  }
  for (const t of input.EmailTags ?? []) {
    if (!TAG_RE.test(t.Name) || !TAG_RE.test(t.Value)) {
      return sesError(400, "BadRequestException", `Invalid tag ${t.Name}: only alphanumeric ASCII characters, '_', '-' are allowed.`);
    }
  }
  const addresses = to.map(bareAddress);
  const ids = tagIds(input.EmailTags?.map((t) => ({ name: t.Name, value: t.Value })));

  return runSend(state, {
    provider: "ses",
    addresses,
    faultReply: (kind, address) => {
      if (kind === "reject") {
        const region = req.headers.authorization?.split("/")[2] ?? "eu-central-1";
        return sesError(400, "MessageRejected", `Email address is not verified. The following identities failed the check in region ${region.toUpperCase()}: ${address ?? addresses[0]}`);
      }
      if (kind === "throttle") return sesError(429, "TooManyRequestsException", "Maximum sending rate exceeded.");
      return sesError(500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.");
    },
    accept: () => {
      const messageId = sesMessageId();
      const at = timestamps();
      const messages = addresses.map((address, i): Omit<SandboxMessage, "callStartedAtMs"> => ({
        id: i === 0 ? messageId : `${messageId}#${i}`,
        provider: "ses",
        to: address,
        ...content,
        ...ids,
        credential: sig.accessKeyId,
        ...at,
      }));
      return { messages, reply: { status: 200, headers: { "x-amzn-requestid": randomUUID() }, body: { MessageId: messageId } } };
    },
  });
}
