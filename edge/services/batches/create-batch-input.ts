/**
 * The bodies of `POST /v1/batches` and `POST /v1/batches/{id}/recipients`. `channel` chooses the message
 * shape (default `email`). Recipient addresses are checked and normalised per channel by the verbs
 * (core/domain/address.ts), since an append's channel is the batch's.
 */
import { z } from "zod";
import { Region } from "../../../core/contract";
import { LIMITS, scheduledAtProblem, variablesProblem } from "../../../core/domain/limits";

export const MAX_RECIPIENTS = LIMITS.recipientsPerRequest;

const Variables = z.record(z.string(), z.unknown()).superRefine((vars, ctx) => {
  const problem = variablesProblem(vars);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const RecipientInput = z.object({
  to: z.string().min(1).max(2048).meta({ description: "Email address, E.164 phone number or webhook URL, per the batch's channel" }),
  variables: Variables.optional(),
});
export type RecipientInput = z.infer<typeof RecipientInput>;

/** One request's recipients; larger lists are built by appending (POST /v1/batches/{id}/recipients). */
export const RecipientsInput = z
  .array(RecipientInput)
  .min(1, "at least one recipient")
  .max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients per request`);

const Headers = z.record(z.string(), z.string());

export const EmailMessage = z.object({
  /** Falls back to the send config's default `from`. An RFC 5322 mailbox. */
  from: z.string().trim().min(3).max(520).optional(),
  replyTo: z.string().trim().min(3).max(520).optional(),
  subject: z.string().min(1).max(LIMITS.subjectChars),
  html: z.string().max(LIMITS.htmlBytes).optional(),
  text: z.string().max(LIMITS.textBytes).optional(),
  /** Custom headers from an allow-list (core/domain/email-message.ts); values are Liquid templates. */
  headers: Headers.optional(),
});

export const SmsMessage = z.object({
  /** Falls back to the send config's default number. */
  from: z.string().trim().min(1).max(32).optional(),
  text: z.string().min(1).max(LIMITS.smsTemplateChars),
});

export const WebhookMessage = z.object({
  /** A Liquid template rendered per recipient; default `{{ to }}` (the recipient's URL). */
  url: z.string().min(1).max(2048).optional(),
  method: z.enum(["POST", "PUT", "PATCH"]).optional(),
  headers: Headers.optional(),
  body: z.string().max(LIMITS.webhookBodyTemplateBytes),
});

const common = {
  name: z.string().trim().min(1).max(200),
  sendConfigId: z.uuid().optional(),
  recipients: RecipientsInput,
  /** Send at this time (future, at most 30 days ahead) instead of at once when `send` is called. */
  scheduledAt: z.iso
    .datetime({ offset: true })
    .superRefine((v, ctx) => {
      const problem = scheduledAtProblem(new Date(v));
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  dryRun: z.boolean().optional(),
  region: Region.optional(),
};

export const CreateBatchInput = z.discriminatedUnion("channel", [
  z.object({ channel: z.literal("email").optional().default("email"), message: EmailMessage, ...common }),
  z.object({ channel: z.literal("sms"), message: SmsMessage, ...common }),
  z.object({ channel: z.literal("webhook"), message: WebhookMessage, ...common }),
]);
export type CreateBatchInput = z.infer<typeof CreateBatchInput>;

/** The body of `POST /v1/batches/{id}/recipients`: the same recipient rules as create. */
export const AppendRecipientsInput = z.object({ recipients: RecipientsInput });
export type AppendRecipientsInput = z.infer<typeof AppendRecipientsInput>;
