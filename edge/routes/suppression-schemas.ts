/** Request and response schemas of /v1/suppressions (the documented public shapes). */
import { z } from "@hono/zod-openapi";
import { channelEnum } from "../../core/db/schema";
import { SUPPRESSION_REASONS } from "../../core/domain/suppressions";

const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: "2026-12-01T15:00:00.000Z" });
export const Channel = z.enum(channelEnum.enumValues);
export const Reason = z.enum(SUPPRESSION_REASONS);

const NORMALISATION =
  "Normalised like a recipient's `to`: email trimmed and lowercased as a whole (local part too, so `Ada@X.com` " +
  "and `ada@x.com` are one address), phone numbers to E.164, webhook URLs to WHATWG form.";

export const Suppression = z
  .object({
    object: z.literal("suppression"),
    channel: Channel,
    address: z.string().openapi({ description: NORMALISATION, example: "ada@example.com" }),
    reason: Reason,
    source: z.string().openapi({ description: "Who or what added it: an API key, an import, a provider event id" }),
    createdAt: Timestamp,
  })
  .openapi("Suppression");

export const SuppressionList = z
  .object({ object: z.literal("list"), data: z.array(Suppression), hasMore: z.boolean(), nextCursor: z.string().nullable() })
  .openapi("SuppressionList");

export const AddSuppressionInput = z
  .object({
    channel: Channel.default("email"),
    address: z.string().min(1).max(2048).openapi({ description: NORMALISATION, example: "Ada@Example.com" }),
    reason: Reason.default("manual"),
  })
  .strict()
  .openapi("AddSuppressionInput");

export const SuppressionImportResult = z
  .object({
    object: z.literal("suppression_import"),
    rows: z.number().int().openapi({ description: "Data rows read (header and blank lines not counted)" }),
    added: z.number().int(),
    duplicates: z.number().int().openapi({ description: "Already on the list, or repeated in the file" }),
    rejected: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), message: z.string() })).openapi({ description: "The first 1,000 rejected rows, by line" }),
    errorsTruncated: z.boolean(),
  })
  .openapi("SuppressionImportResult");

export const SuppressionFilterQuery = z.object({
  channel: Channel.optional().openapi({ param: { name: "channel", in: "query" } }),
  reason: Reason.optional().openapi({ param: { name: "reason", in: "query" } }),
});

export const ImportQuery = z.object({
  channel: Channel.default("email").openapi({ param: { name: "channel", in: "query" }, description: "For rows without a `channel` column" }),
  reason: Reason.default("manual").openapi({ param: { name: "reason", in: "query" }, description: "For rows without a `reason` column" }),
});

export const SuppressionParams = z.object({
  channel: z.string().openapi({ param: { name: "channel", in: "path" }, example: "email" }),
  address: z.string().openapi({ param: { name: "address", in: "path" }, description: "Percent-encoded; normalised before the lookup", example: "ada%40example.com" }),
});
