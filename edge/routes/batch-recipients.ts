/** /v1/batches/{id}/recipients: append to a draft, and list what happened to each recipient. */
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { LIMITS } from "../../core/domain/limits";
import { recipientStatusEnum } from "../../core/db/schema";
import { guardJson, limitBody } from "../http/json-body";
import { idempotency } from "../middleware/idempotency";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed, validationError } from "../http/problem";
import { assertDeclaredLength, streamFormat, streamRows } from "../http/row-stream";
import { serviceCtxOf } from "../http/service-ctx-of";
import type { AppEnv } from "../hono-env";
import { appendRecipientRows, appendRecipients, AppendRecipientsInput, listRecipients } from "../services/batches";
import { AppendRecipientsResult, json, RecipientList } from "./batch-schemas";
import { BatchIdParams, IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";

export const batchRecipientRoutes = openApiApp();

const security = [{ apiKey: [] }];

const AppendQuery = z.object({
  atomic: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "atomic", in: "query" },
      description:
        "Streamed bodies: `true` stores nothing if any row is invalid (422 listing the first 100 by line); by default " +
        "invalid rows are counted and reported and the valid ones stored. A JSON body is always all-or-nothing.",
    }),
});

const StreamedBody = z.string().openapi({ format: "binary" });

/** The JSON body limit (8 MiB) would buffer a streamed body: streamed uploads count their bytes as they read. */
const limitUnlessStreamed: MiddlewareHandler<AppEnv> = (c, next) => (streamFormat(c.req.header("content-type")) ? next() : limitBody(c, next));

/**
 * NDJSON and CSV bodies are handled here, before the route's JSON validator (which would refuse them): the
 * body is parsed and inserted as it arrives (services/batches/stream-recipients.ts).
 */
const streamedAppend: MiddlewareHandler<AppEnv> = async (c, next) => {
  const format = streamFormat(c.req.header("content-type"));
  if (!format) return next();
  const params = BatchIdParams.safeParse(c.req.param());
  if (!params.success) throw validationError(params.error);
  const query = AppendQuery.safeParse(c.req.query());
  if (!query.success) throw validationError(query.error);
  assertDeclaredLength(c.req.header("content-length"), LIMITS.streamedBodyBytes);
  const rows = streamRows(c.req.raw.body, format, { maxBytes: LIMITS.streamedBodyBytes, requiredColumns: ["to"] });
  const input = { batchId: params.data.id, rows, flat: format === "csv", atomic: query.data.atomic === "true" };
  return c.json(await appendRecipientRows({ ctx: serviceCtxOf(c), input }), 200);
};

/**
 * Appending builds lists larger than one request while the batch is a draft: up to 10,000 recipients as JSON,
 * or up to the batch's 1,000,000 as a streamed NDJSON or CSV body.
 */
const appendRoute = createRoute({
  operationId: "appendRecipients",
  method: "post",
  path: "/{id}/recipients",
  tags: ["Recipients"],
  summary: "Append recipients to a draft batch (JSON, or a streamed NDJSON/CSV upload)",
  description:
    "`application/json`: `{ recipients: [...] }`, at most 10,000, all-or-nothing. `application/x-ndjson`: one " +
    "`{ \"to\": …, \"variables\": {…} }` object per line. `text/csv`: a header row naming a `to` column; every other " +
    "column is a variable. Streamed bodies are parsed and stored as they arrive, up to 1,000,000 recipients per " +
    `batch and ${LIMITS.streamedBodyBytes} bytes; rows are checked like inline recipients, duplicates dropped and ` +
    "counted, invalid rows counted and the first 100 reported by line (see `atomic`). With an Idempotency-Key, a " +
    "streamed body is matched by method, path, media type and Content-Length (it is not buffered to be hashed).",
  security,
  middleware: [limitUnlessStreamed, guardJson, idempotency, streamedAppend] as const,
  request: {
    params: BatchIdParams,
    query: AppendQuery,
    headers: IdempotencyHeaders,
    body: {
      required: true,
      content: {
        "application/json": { schema: AppendRecipientsInput.openapi("AppendRecipientsInput") },
        "application/x-ndjson": { schema: StreamedBody },
        "text/csv": { schema: StreamedBody },
      },
    },
  },
  responses: { 200: json(AppendRecipientsResult, "What was added"), ...problems(404, 409, 413, 415, 422) },
});

batchRecipientRoutes.openapi(appendRoute, async (c) => {
  // Only JSON reaches the handler (streamedAppend answers NDJSON/CSV), so the validated body is the JSON schema's.
  const input = { batchId: c.req.valid("param").id, body: c.req.valid("json") as AppendRecipientsInput };
  return c.json(await appendRecipients({ ctx: serviceCtxOf(c), input }), 200);
});

const ListRecipientsQuery = pageQuery({
  defaultLimit: 100,
  maxLimit: 1000,
  cursor: z.string().regex(/^[1-9][0-9]{0,14}$/, "a recipient id"),
}).extend({
  status: z.enum(recipientStatusEnum.enumValues).optional().openapi({ param: { name: "status", in: "query" } }),
  to: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .openapi({ param: { name: "to", in: "query" }, description: "Exact address, normalised for the batch's channel", example: "ada@example.com" }),
  to_prefix: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .openapi({ param: { name: "to_prefix", in: "query" }, description: "Addresses starting with this (case-insensitive for email)", example: "ada@" }),
});

const listRoute = createRoute({
  operationId: "listRecipients",
  method: "get",
  path: "/{id}/recipients",
  tags: ["Recipients"],
  summary: "List a batch's recipients and their outcomes",
  security,
  request: { params: BatchIdParams, query: ListRecipientsQuery },
  responses: { 200: json(RecipientList, "One page of recipients"), ...problems(404, 422) },
});

batchRecipientRoutes.openapi(listRoute, async (c) => {
  const input = { batchId: c.req.valid("param").id, query: c.req.valid("query") };
  return c.json(await listRecipients({ ctx: serviceCtxOf(c), input }), 200);
});
batchRecipientRoutes.all("/:id/recipients", methodNotAllowed(["GET", "POST"]));
