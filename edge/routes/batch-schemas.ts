/**
 * Response schemas of the batch routes: the documented public shapes. The verbs' view types
 * (services/batches/batch-view.ts, list-recipients.ts) must be assignable to them, which the route handlers'
 * typed `c.json(…, status)` checks at compile time; the worker tests validate real responses against the
 * generated document.
 */
import { z } from "@hono/zod-openapi";
import { batchStatusEnum, channelEnum, recipientStatusEnum } from "../../core/db/schema";

export const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: "2026-12-01T15:00:00.000Z" });

export const Batch = z
  .object({
    id: z.uuid(),
    object: z.literal("batch"),
    name: z.string(),
    channel: z.enum(channelEnum.enumValues),
    status: z.enum(batchStatusEnum.enumValues),
    sendConfigId: z.uuid(),
    region: z.string(),
    dryRun: z.boolean().openapi({ description: "Everything but the provider call; always true for test keys" }),
    scheduledAt: Timestamp.nullable(),
    counts: z.object({
      total: z.number().int(),
      queued: z.number().int(),
      sent: z.number().int(),
      failed: z.number().int(),
      suppressed: z.number().int(),
      cancelled: z.number().int(),
      delivered: z.number().int(),
      bounced: z.number().int(),
      complained: z.number().int(),
    }),
    progress: z.number().min(0).max(1).openapi({ description: "Share of recipients finished (sent, failed, suppressed or cancelled), 0–1" }),
    createdAt: Timestamp,
    queuedAt: Timestamp.nullable(),
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
  })
  .openapi("Batch");

/**
 * `GET /v1/batches/{id}`: the batch with its ETA (lists and transition answers leave it out: it needs the
 * send config's rates).
 */
export const BatchDetail = Batch.extend({
  eta: z
    .object({
      remaining: z.number().int().openapi({ description: "Recipients not finished yet" }),
      ratePerSecond: z.number().openapi({ description: "Recipients per second the batch's rate limits allow" }),
      seconds: z.number().int(),
      at: Timestamp,
    })
    .nullable()
    .openapi({
      description:
        "When the batch finishes at the rate its provider account, send config and tenant limits allow, assuming it has them to itself (other batches sharing them make it later). Null unless the batch is sending (queued or processing), and for dry runs.",
    }),
}).openapi("BatchDetail");

export const CreatedBatch = Batch.extend({
  duplicatesRemoved: z.number().int().openapi({ description: "Recipients dropped as duplicates of an earlier one" }),
  smsSegments: z
    .object({ encoding: z.enum(["GSM-7", "UCS-2"]), segments: z.number().int(), characters: z.number().int() })
    .optional()
    .openapi({ description: "SMS only: encoding and segment count of the text as written (variables can change both)" }),
}).openapi("CreatedBatch");

export const BatchList = z
  .object({
    object: z.literal("list"),
    data: z.array(Batch),
    hasMore: z.boolean(),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `starting_after` for the next page" }),
  })
  .openapi("BatchList");

export const Recipient = z
  .object({
    id: z.string().openapi({ description: "A decimal string (a bigint)" }),
    object: z.literal("recipient"),
    to: z.string(),
    status: z.enum(recipientStatusEnum.enumValues),
    attempts: z.number().int(),
    providerMessageId: z.string().nullable(),
    error: z.string().nullable(),
    sentAt: Timestamp.nullable(),
    updatedAt: Timestamp,
  })
  .openapi("Recipient");

export const RecipientList = z
  .object({
    object: z.literal("list"),
    data: z.array(Recipient),
    hasMore: z.boolean(),
    nextCursor: z.string().nullable(),
  })
  .openapi("RecipientList");

export const AppendRecipientsResult = z
  .object({
    added: z.number().int().openapi({ description: "Rows stored" }),
    duplicatesRemoved: z.number().int().openapi({ description: "Valid rows dropped: repeated in the body, or already in the batch" }),
    suppressed: z.number().int().openapi({ description: "Of the added rows, how many are on the suppression list" }),
    rejected: z.number().int().openapi({ description: "Streamed uploads: invalid rows (always 0 for JSON, which is all-or-nothing)" }),
    errors: z
      .array(
        z.object({
          line: z.number().int().openapi({ description: "Line in the body (CSV: the header is line 1)" }),
          path: z.string().optional().openapi({ description: "The field, e.g. `to` or `variables`" }),
          message: z.string(),
        }),
      )
      .openapi({ description: "The first 100 rejected rows" }),
    batch: Batch,
  })
  .openapi("AppendRecipientsResult");

export const DeletedBatch = z
  .object({ id: z.uuid(), object: z.literal("batch"), deleted: z.literal(true) })
  .openapi("DeletedBatch");

export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
