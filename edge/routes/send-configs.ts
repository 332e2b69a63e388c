/**
 * /v1/send-configs: how a tenant sends on each channel — managed (our accounts) or BYOK (its own provider
 * credentials, sealed at rest, masked on every read). Thin handlers over edge/services/send-configs.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { CHANNELS, PROVIDERS, SEND_MODES } from "../../core/domain/channels";
import { sealingKeyOf } from "../adapters/sealing-key";
import { guardJson, limitBody } from "../http/json-body";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { idempotency } from "../middleware/idempotency";
import { CreateSendConfigInput, createSendConfig, deleteSendConfig, getSendConfig, listSendConfigs, UpdateSendConfigInput, updateSendConfig } from "../services/send-configs";
import { json } from "./batch-schemas";
import { IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";

export const sendConfigRoutes = openApiApp();
const security = [{ apiKey: [] }];
const tags = ["Send configs"];
const Timestamp = z.iso.datetime({ offset: true });

const SendConfig = z
  .object({
    id: z.uuid(),
    object: z.literal("send_config"),
    name: z.string(),
    channel: z.enum(CHANNELS),
    mode: z.enum(SEND_MODES),
    provider: z.enum(PROVIDERS),
    defaults: z.record(z.string(), z.unknown()),
    rateLimitPerSecond: z.number().int().nullable(),
    credentials: z.record(z.string(), z.string()).nullable().openapi({ description: "BYOK only: each value masked to its last 4 characters", example: { accessKeyId: "••••WXYZ", secretAccessKey: "••••k9Qz", region: "eu-central-1" } }),
    isDefault: z.boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("SendConfig");
const SendConfigList = z.object({ data: z.array(SendConfig), hasMore: z.boolean(), nextCursor: z.string().nullable() }).openapi("SendConfigList");
const IdParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, description: "The send config id (a UUID)", example: "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10" }),
});

sendConfigRoutes.openapi(
  createRoute({
    operationId: "createSendConfig",
    method: "post",
    path: "/",
    tags,
    summary: "Create a send config (managed, or BYOK with your provider credentials)",
    security,
    middleware: [limitBody, guardJson, idempotency] as const,
    request: { headers: IdempotencyHeaders, body: { required: true, content: { "application/json": { schema: CreateSendConfigInput } } } },
    responses: { 201: json(SendConfig, "The new config; credentials masked"), ...problems(409, 413, 415, 422) },
  }),
  async (c) => c.json(await createSendConfig({ ctx: serviceCtxOf(c), input: c.req.valid("json"), sealingKey: () => sealingKeyOf(c.get("config")) }), 201),
);

sendConfigRoutes.openapi(
  createRoute({
    operationId: "listSendConfigs",
    method: "get",
    path: "/",
    tags,
    summary: "List send configs",
    security,
    request: {
      query: pageQuery({ defaultLimit: 20, maxLimit: 100, cursor: z.string() }).extend({
        channel: z.enum(CHANNELS).optional().openapi({ param: { name: "channel", in: "query" } }),
      }),
    },
    responses: { 200: json(SendConfigList, "One page of send configs"), ...problems(404, 422) },
  }),
  async (c) => c.json(await listSendConfigs({ ctx: serviceCtxOf(c), input: c.req.valid("query") }), 200),
);
sendConfigRoutes.all("/", methodNotAllowed(["GET", "POST"]));

sendConfigRoutes.openapi(
  createRoute({
    operationId: "getSendConfig",
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get a send config (credentials masked)",
    security,
    request: { params: IdParams },
    responses: { 200: json(SendConfig, "The config"), ...problems(404) },
  }),
  async (c) => c.json(await getSendConfig({ ctx: serviceCtxOf(c), input: { configId: c.req.valid("param").id } }), 200),
);

sendConfigRoutes.openapi(
  createRoute({
    operationId: "updateSendConfig",
    method: "patch",
    path: "/{id}",
    tags,
    summary: "Update a send config; new credentials rotate them under the same id",
    security,
    middleware: [limitBody, guardJson] as const,
    request: { params: IdParams, body: { required: true, content: { "application/json": { schema: UpdateSendConfigInput } } } },
    responses: { 200: json(SendConfig, "The updated config"), ...problems(404, 409, 413, 415, 422) },
  }),
  async (c) =>
    c.json(
      await updateSendConfig({ ctx: serviceCtxOf(c), input: { configId: c.req.valid("param").id, patch: c.req.valid("json") }, sealingKey: () => sealingKeyOf(c.get("config")) }),
      200,
    ),
);

sendConfigRoutes.openapi(
  createRoute({
    operationId: "deleteSendConfig",
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Delete a send config (409 while an unfinished batch uses it)",
    security,
    request: { params: IdParams },
    responses: { 204: { description: "Deleted" }, ...problems(404, 409) },
  }),
  async (c) => {
    await deleteSendConfig({ ctx: serviceCtxOf(c), input: { configId: c.req.valid("param").id } });
    return c.body(null, 204);
  },
);
sendConfigRoutes.all("/:id", methodNotAllowed(["GET", "PATCH", "DELETE"]));
