/**
 * The batch payload: one shape per channel, stored in `batches.payload` (DESIGN §3). Validated at the API
 * boundary and again when the sender loads it, so a bad row fails loudly instead of sending garbage.
 *
 * Edge-safe: no node:* imports.
 */
import { z } from "zod";

export const EmailPayload = z.object({
  channel: z.literal("email"),
  from: z.string().min(3).max(320),
  replyTo: z.string().max(320).optional(),
  subject: z.string().min(1).max(998),
  html: z.string().max(512 * 1024).optional(),
  text: z.string().max(512 * 1024).optional(),
  /** Extra headers (e.g. List-Unsubscribe); values are Liquid templates like the body. */
  headers: z.record(z.string(), z.string()).optional(),
});
export type EmailPayload = z.infer<typeof EmailPayload>;

export const SmsPayload = z.object({
  channel: z.literal("sms"),
  from: z.string().optional(),
  messagingProfileId: z.string().optional(),
  text: z.string().min(1).max(1600),
});
export type SmsPayload = z.infer<typeof SmsPayload>;

export const WebhookPayload = z.object({
  channel: z.literal("webhook"),
  /** Liquid template of the target, rendered per recipient; absent means the recipient's address. */
  url: z.string().max(2048).optional(),
  method: z.enum(["POST", "PUT", "PATCH"]).default("POST"),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().max(256 * 1024),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export const BatchPayload = z.discriminatedUnion("channel", [EmailPayload, SmsPayload, WebhookPayload]);
export type BatchPayload = z.infer<typeof BatchPayload>;
