/**
 * What a caller may write to a send config, validated per channel, mode and provider (issue 8): email pairs
 * with SES or Resend, SMS with Telnyx, webhook with webhook; BYOK needs the provider's credentials (SES region
 * format, Telnyx messaging profile id…) and may state the rate its own account allows; managed configs carry
 * neither. Field errors name the path, so the 422 says which field is wrong.
 */
import { z } from "@hono/zod-openapi";
import { normalizePhone } from "../../../core/domain/address";
import { ByokCredentials, PROVIDERS_BY_CHANNEL, TelnyxProfileId } from "../../../core/domain/byok";
import { CHANNELS, PROVIDERS, SEND_MODES } from "../../../core/domain/channels";
import { mailboxProblem } from "../../../core/domain/email-message";
import type { FieldError } from "../../../core/domain/templates";

export const SendConfigDefaults = z
  .strictObject({
    from: z.string().trim().min(3).max(520).optional(),
    replyTo: z.string().trim().min(3).max(520).optional(),
    /** SMS: an E.164 number or an alphanumeric sender id (1–11 characters). */
    fromNumber: z.string().trim().min(1).max(32).optional(),
    messagingProfileId: z.string().optional(),
  })
  .openapi("SendConfigDefaults");

export const CreateSendConfigInput = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    channel: z.enum(CHANNELS),
    mode: z.enum(SEND_MODES),
    provider: z.enum(PROVIDERS),
    defaults: SendConfigDefaults.default({}),
    rateLimitPerSecond: z.number().int().min(1).max(100_000).optional().openapi({ description: "BYOK: sends per second your own provider account allows" }),
    credentials: z.record(z.string(), z.string()).optional().openapi({ description: "BYOK: the provider's credentials; stored sealed, shown masked" }),
    isDefault: z.boolean().default(false),
  })
  .openapi("CreateSendConfigInput");
export type CreateSendConfigInput = z.infer<typeof CreateSendConfigInput>;

export const UpdateSendConfigInput = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    defaults: SendConfigDefaults.optional(),
    rateLimitPerSecond: z.number().int().min(1).max(100_000).nullable().optional(),
    credentials: z.record(z.string(), z.string()).optional().openapi({ description: "BYOK: replaces the credentials (rotation keeps the config id)" }),
    isDefault: z.boolean().optional(),
  })
  .openapi("UpdateSendConfigInput");
export type UpdateSendConfigInput = z.infer<typeof UpdateSendConfigInput>;

type Shape = Pick<CreateSendConfigInput, "channel" | "mode" | "provider"> & {
  defaults?: z.infer<typeof SendConfigDefaults>;
  rateLimitPerSecond?: number | null;
  credentials?: Record<string, string>;
};

/** Cross-field rules; `requireCredentials` is false on an update that keeps the stored ones. */
export function sendConfigProblems(c: Shape, requireCredentials: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const allowed: readonly string[] = PROVIDERS_BY_CHANNEL[c.channel];
  if (!allowed.includes(c.provider)) errors.push({ path: "provider", message: `a ${c.channel} config uses ${allowed.join(" or ")}` });
  if (c.provider === "webhook" && c.mode === "byok") errors.push({ path: "mode", message: "webhook configs call your endpoint: there are no credentials to bring" });
  if (c.mode === "managed") {
    if (c.credentials) errors.push({ path: "credentials", message: "managed configs send on our accounts: no credentials" });
    if (c.rateLimitPerSecond != null) errors.push({ path: "rateLimitPerSecond", message: "only BYOK configs set their own account's rate" });
  } else if (c.provider !== "webhook") {
    if (!c.credentials && requireCredentials) errors.push({ path: "credentials", message: `required for a BYOK ${c.provider} config` });
    if (c.credentials) {
      const schema = ByokCredentials[c.provider as keyof typeof ByokCredentials].strict();
      const r = schema.safeParse(c.credentials);
      if (!r.success) for (const i of r.error.issues) errors.push({ path: ["credentials", ...i.path].join("."), message: i.message });
      const profile = c.credentials.messagingProfileId;
      if (c.provider === "telnyx" && profile !== undefined && !TelnyxProfileId.safeParse(profile).success) {
        errors.push({ path: "credentials.messagingProfileId", message: "must be a Telnyx messaging profile id (a UUID)" });
      }
    }
  }
  const d = c.defaults ?? {};
  for (const field of ["from", "replyTo"] as const) {
    const v = d[field];
    if (v === undefined) continue;
    if (c.channel !== "email") errors.push({ path: `defaults.${field}`, message: "only email configs have it" });
    else {
      const p = mailboxProblem(v);
      if (p) errors.push({ path: `defaults.${field}`, message: p });
    }
  }
  if (d.fromNumber !== undefined) {
    if (c.channel !== "sms") errors.push({ path: "defaults.fromNumber", message: "only SMS configs have it" });
    else if (!normalizePhone(d.fromNumber).ok && !/^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(d.fromNumber)) {
      errors.push({ path: "defaults.fromNumber", message: "must be an E.164 number or an alphanumeric sender id of 1–11 characters" });
    }
  }
  if (d.messagingProfileId !== undefined) {
    if (c.provider !== "telnyx") errors.push({ path: "defaults.messagingProfileId", message: "only Telnyx configs have it" });
    else if (!TelnyxProfileId.safeParse(d.messagingProfileId).success) errors.push({ path: "defaults.messagingProfileId", message: "must be a Telnyx messaging profile id (a UUID)" });
  }
  return errors;
}
