/** /v1/batches: create, list, read and delete (drafts) batches. Thin handlers over the batch verbs (edge/services/batches). */
import { createRoute, z } from "@hono/zod-openapi";
import { batchStatusEnum, channelEnum } from "../../core/db/schema";
import { guardJson, limitBody } from "../http/json-body";
import { idempotency } from "../middleware/idempotency";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { createBatch, CreateBatchInput, deleteBatch, getBatch, listBatches } from "../services/batches";
import { BatchDetail, BatchList, CreatedBatch, DeletedBatch, json } from "./batch-schemas";
import { BatchIdParams, IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";

export const batchRoutes = openApiApp();

const security = [{ apiKey: [] }];

const createBatchRoute = createRoute({
  operationId: "createBatch",
  method: "post",
  path: "/",
  tags: ["Batches"],
  summary: "Create a batch (draft) with up to 10,000 recipients",
  security,
  middleware: [limitBody, guardJson, idempotency] as const,
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: CreateBatchInput.openapi("CreateBatchInput") } } },
  },
  responses: {
    201: json(CreatedBatch, "The new draft batch (or, with `Idempotent-Replayed: true`, the first answer to this Idempotency-Key)"),
    ...problems(404, 409, 413, 415, 422),
  },
});

batchRoutes.openapi(createBatchRoute, async (c) => {
  const batch = await createBatch({ ctx: serviceCtxOf(c), input: { body: c.req.valid("json") } });
  return c.json(batch, 201);
});

const ListBatchesQuery = pageQuery({ defaultLimit: 10, maxLimit: 100, cursor: z.string() }).extend({
  status: z.enum(batchStatusEnum.enumValues).optional().openapi({ param: { name: "status", in: "query" } }),
  channel: z.enum(channelEnum.enumValues).optional().openapi({ param: { name: "channel", in: "query" } }),
  ...createdRangeQuery(),
});

/** Stripe's `created[gt]`, `created[gte]`, `created[lt]`, `created[lte]`: ISO 8601 timestamps with an offset. */
function createdRangeQuery() {
  const bound = (op: string, description: string) =>
    z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ param: { name: `created[${op}]`, in: "query" }, description, example: "2026-12-01T00:00:00Z" });
  return {
    "created[gt]": bound("gt", "Only batches created after this time"),
    "created[gte]": bound("gte", "Only batches created at or after this time"),
    "created[lt]": bound("lt", "Only batches created before this time"),
    "created[lte]": bound("lte", "Only batches created at or before this time"),
  };
}

const listBatchesRoute = createRoute({
  operationId: "listBatches",
  method: "get",
  path: "/",
  tags: ["Batches"],
  summary: "List batches, newest first",
  security,
  request: { query: ListBatchesQuery },
  responses: { 200: json(BatchList, "One page of batches"), ...problems(404, 422) },
});

batchRoutes.openapi(listBatchesRoute, async (c) => c.json(await listBatches({ ctx: serviceCtxOf(c), input: c.req.valid("query") }), 200));
batchRoutes.all("/", methodNotAllowed(["GET", "POST"]));

const getBatchRoute = createRoute({
  operationId: "getBatch",
  method: "get",
  path: "/{id}",
  tags: ["Batches"],
  summary: "Get a batch with its counts, progress and ETA",
  security,
  request: { params: BatchIdParams },
  responses: { 200: json(BatchDetail, "The batch"), ...problems(404) },
});

batchRoutes.openapi(getBatchRoute, async (c) => c.json(await getBatch({ ctx: serviceCtxOf(c), input: { batchId: c.req.valid("param").id } }), 200));

const deleteBatchRoute = createRoute({
  operationId: "deleteBatch",
  method: "delete",
  path: "/{id}",
  tags: ["Batches"],
  summary: "Delete a draft batch and its recipients (a batch that was sent is cancelled instead: 409)",
  security,
  request: { params: BatchIdParams },
  responses: { 200: json(DeletedBatch, "The batch is gone"), ...problems(404, 409) },
});

batchRoutes.openapi(deleteBatchRoute, async (c) => c.json(await deleteBatch({ ctx: serviceCtxOf(c), input: { batchId: c.req.valid("param").id } }), 200));
batchRoutes.all("/:id", methodNotAllowed(["GET", "DELETE"]));
