/**
 * /v1/suppressions: the tenant's do-not-send list per channel (one per key mode). Thin handlers over the
 * suppression verbs (edge/services/suppressions). Import and export stream: their bodies are never held whole.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/domain/problem";
import { guardJson, limitBody } from "../http/json-body";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { idempotency } from "../middleware/idempotency";
import { addSuppression, exportSuppressions, getSuppression, importSuppressions, listSuppressions, removeSuppression } from "../services/suppressions";
import { json } from "./batch-schemas";
import { IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";
import {
  AddSuppressionInput,
  Channel,
  ImportQuery,
  Suppression,
  SuppressionFilterQuery,
  SuppressionImportResult,
  SuppressionList,
  SuppressionParams,
} from "./suppression-schemas";

export const suppressionRoutes = openApiApp();

const security = [{ apiKey: [] }];
const tags = ["Suppressions"];

const listRoute = createRoute({
  operationId: "listSuppressions",
  method: "get",
  path: "/",
  tags,
  summary: "List suppressed addresses (by channel, then address)",
  security,
  request: {
    query: pageQuery({ defaultLimit: 100, maxLimit: 1000, cursor: z.string().max(4096) }).extend({
      ...SuppressionFilterQuery.shape,
      search: z.string().min(1).max(320).optional().openapi({ param: { name: "search", in: "query" }, description: "Part of the address (case-insensitive)" }),
    }),
  },
  responses: { 200: json(SuppressionList, "One page of suppressions"), ...problems(422) },
});

suppressionRoutes.openapi(listRoute, async (c) => c.json(await listSuppressions({ ctx: serviceCtxOf(c), input: c.req.valid("query") }), 200));

const addRoute = createRoute({
  operationId: "addSuppression",
  method: "post",
  path: "/",
  tags,
  summary: "Suppress one address (201 when added, 200 when it already was)",
  security,
  middleware: [limitBody, guardJson, idempotency] as const,
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: AddSuppressionInput } } },
  },
  responses: { 201: json(Suppression, "Added"), 200: json(Suppression, "Already suppressed: the first entry"), ...problems(413, 415, 422) },
});

suppressionRoutes.openapi(addRoute, async (c) => {
  const { created, suppression } = await addSuppression({ ctx: serviceCtxOf(c), input: c.req.valid("json") });
  return created ? c.json(suppression, 201) : c.json(suppression, 200);
});
suppressionRoutes.all("/", methodNotAllowed(["GET", "POST"]));

const IMPORT_TYPES: Record<string, "csv" | "ndjson"> = { "text/csv": "csv", "application/x-ndjson": "ndjson", "application/jsonl": "ndjson" };

const importRoute = createRoute({
  operationId: "importSuppressions",
  method: "post",
  path: "/import",
  tags,
  summary: "Bulk import a streamed CSV (header row: address[,channel][,reason]) or NDJSON body",
  description:
    "Rows are checked one by one: a bad row is rejected with its line number and the rest still imports. " +
    "Pages of 1,000 rows commit as they arrive, and importing the same file again only counts duplicates, so " +
    "the request needs no Idempotency-Key. At most 1,000,000 rows per request.",
  security,
  request: {
    query: ImportQuery,
    body: {
      required: true,
      content: {
        "text/csv": { schema: z.string().openapi({ example: "address,reason\nada@example.com,manual\n+4915112345678,stop" }) },
        "application/x-ndjson": { schema: z.string().openapi({ example: '{"address":"ada@example.com","reason":"unsubscribe"}' }) },
      },
    },
  },
  responses: { 200: json(SuppressionImportResult, "What was imported, with the rejected rows by line"), ...problems(415, 422) },
});

suppressionRoutes.openapi(importRoute, async (c) => {
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  const format = IMPORT_TYPES[type];
  if (!format) throw new AppError("unsupported_media_type", "Send text/csv or application/x-ndjson");
  const body = c.req.raw.body;
  if (!body) throw new AppError("bad_request", "The request has no body");
  const { channel, reason } = c.req.valid("query");
  return c.json(await importSuppressions({ ctx: serviceCtxOf(c), input: { body, format, channel, reason } }), 200);
});
suppressionRoutes.all("/import", methodNotAllowed(["POST"]));

const exportRoute = createRoute({
  operationId: "exportSuppressions",
  method: "get",
  path: "/export",
  tags,
  summary: "Download the list as CSV (channel,address,reason,source,created_at), streamed",
  security,
  request: { query: SuppressionFilterQuery },
  responses: {
    200: { description: "The list as CSV; importable as is", content: { "text/csv": { schema: z.string() } } },
    ...problems(422),
  },
});

suppressionRoutes.openapi(exportRoute, (c) => {
  const { stream, finished } = exportSuppressions({ ctx: serviceCtxOf(c), input: c.req.valid("query") });
  // The request's pool stays open until the last page was read (request-services closes it after deferred work).
  c.get("defer")("suppression export", finished);
  return c.body(stream, 200, { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": 'attachment; filename="suppressions.csv"' });
});
suppressionRoutes.all("/export", methodNotAllowed(["GET"]));

function parseParams(p: { channel: string; address: string }) {
  const channel = Channel.safeParse(p.channel);
  if (!channel.success) throw new AppError("not_found", "No such suppression");
  return { channel: channel.data, address: p.address };
}

const getRoute = createRoute({
  operationId: "getSuppression",
  method: "get",
  path: "/{channel}/{address}",
  tags,
  summary: "Whether an address is suppressed (404 when it is not)",
  security,
  request: { params: SuppressionParams },
  responses: { 200: json(Suppression, "The suppression"), ...problems(404) },
});

suppressionRoutes.openapi(getRoute, async (c) => c.json(await getSuppression({ ctx: serviceCtxOf(c), input: parseParams(c.req.valid("param")) }), 200));

const removeRoute = createRoute({
  operationId: "removeSuppression",
  method: "delete",
  path: "/{channel}/{address}",
  tags,
  summary: "Remove an address from the list; later batches send to it again",
  security,
  request: { params: SuppressionParams },
  responses: { 200: json(Suppression, "The removed suppression"), ...problems(404) },
});

suppressionRoutes.openapi(removeRoute, async (c) => c.json(await removeSuppression({ ctx: serviceCtxOf(c), input: parseParams(c.req.valid("param")) }), 200));
suppressionRoutes.all("/:channel/:address", methodNotAllowed(["GET", "DELETE"]));
