/**
 * The body of `POST /v1/batches`. Email only for now; `channel` is already part of the shape (default
 * "email") so sms and webhook become further members of a discriminated union without breaking clients.
 */
import { z } from "zod";
import { Region } from "../../../core/contract";

export const MAX_RECIPIENTS = 10_000;

/** Trim, lowercase the domain (the local part is case-sensitive per RFC 5321, so it is left alone). */
export function normalizeEmail(raw: string): string {
  const s = raw.trim();
  const at = s.lastIndexOf("@");
  return at < 0 ? s : `${s.slice(0, at)}@${s.slice(at + 1).toLowerCase()}`;
}

const EmailAddress = z
  .string()
  .max(320)
  .transform(normalizeEmail)
  .pipe(z.email({ message: "must be a valid email address" }));

const Variables = z.record(z.string(), z.unknown());

const EmailMessage = z.object({
  /** Falls back to the send config's default `from`. */
  from: z.string().trim().min(3).max(320).optional(),
  subject: z.string().min(1).max(998),
  html: z.string().max(512 * 1024).optional(),
  text: z.string().max(512 * 1024).optional(),
  replyTo: z.string().trim().max(320).optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "header names are letters, digits and dashes"), z.string().max(2000)).optional(),
});

/** One request's recipients; larger lists are built by appending (POST /v1/batches/{id}/recipients). */
export const EmailRecipients = z
  .array(z.object({ to: EmailAddress, variables: Variables.optional() }))
  .min(1, "at least one recipient")
  .max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients per request`);
export type EmailRecipients = z.infer<typeof EmailRecipients>;

export const CreateBatchInput = z.object({
  name: z.string().trim().min(1).max(200),
  channel: z.literal("email").default("email"),
  sendConfigId: z.uuid().optional(),
  message: EmailMessage.refine((m) => m.html !== undefined || m.text !== undefined, {
    message: "give html, text or both",
    path: ["html"],
  }),
  recipients: EmailRecipients,
  scheduledAt: z.iso.datetime({ offset: true }).optional(),
  dryRun: z.boolean().optional(),
  region: Region.optional(),
});
export type CreateBatchInput = z.infer<typeof CreateBatchInput>;

/** The body of `POST /v1/batches/{id}/recipients`: the same recipient rules as create. */
export const AppendRecipientsInput = z.object({ recipients: EmailRecipients });
export type AppendRecipientsInput = z.infer<typeof AppendRecipientsInput>;
