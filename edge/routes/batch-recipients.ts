/** /v1/batches/{id}/recipients: append to a draft, and list what happened to each recipient. */
import { createRoute, z } from "@hono/zod-openapi";
import { recipientStatusEnum } from "../../core/db/schema";
import { guardJson, limitBody } from "../http/json-body";
import { idempotency } from "../middleware/idempotency";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { appendRecipients, AppendRecipientsInput, listRecipients } from "../services/batches";
import { AppendRecipientsResult, json, RecipientList } from "./batch-schemas";
import { BatchIdParams, IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";

export const batchRecipientRoutes = openApiApp();

const security = [{ apiKey: [] }];

/** Appending builds lists larger than one request (10,000 recipients) while the batch is a draft. */
const appendRoute = createRoute({
  operationId: "appendRecipients",
  method: "post",
  path: "/{id}/recipients",
  tags: ["Recipients"],
  summary: "Append recipients to a draft batch",
  security,
  middleware: [limitBody, guardJson, idempotency] as const,
  request: {
    params: BatchIdParams,
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: AppendRecipientsInput.openapi("AppendRecipientsInput") } } },
  },
  responses: { 200: json(AppendRecipientsResult, "What was added"), ...problems(404, 409, 413, 415, 422) },
});

batchRecipientRoutes.openapi(appendRoute, async (c) => {
  const input = { batchId: c.req.valid("param").id, body: c.req.valid("json") };
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
