/**
 * /v1/api-keys: create (the secret is shown once), list, get and revoke the tenant's API keys. Scope `admin`
 * (edge/http/scopes.ts). An idempotent replay of a create answers `secret: null`: the secret is never stored,
 * not even in the idempotency record.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { SCOPES } from "../../core/domain/scopes";
import { guardJson, limitBody } from "../http/json-body";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { idempotency } from "../middleware/idempotency";
import { createApiKey, CreateApiKeyInput, getApiKey, listApiKeys, revokeApiKey } from "../services/api-keys";
import { json, Timestamp } from "./batch-schemas";
import { IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";

export const apiKeyRoutes = openApiApp();

const security = [{ apiKey: [] }];
const tags = ["API keys"];

export const ApiKey = z
  .object({
    id: z.uuid(),
    object: z.literal("api_key"),
    name: z.string(),
    prefix: z.string().openapi({ example: "bs_live_AbCd" }),
    scopes: z.array(z.string()).openapi({ example: ["batches:read"], description: `Any of ${SCOPES.join(", ")}; admin implies all` }),
    mode: z.enum(["live", "test"]),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable().openapi({ description: "Updated at most once a minute" }),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .openapi("ApiKey");

const CreatedApiKey = ApiKey.extend({
  secret: z.string().nullable().openapi({
    description: "The key itself, shown this once (only its hash is stored); null when an Idempotency-Key replays the answer",
    example: "bs_live_…",
  }),
}).openapi("CreatedApiKey");

const ApiKeyList = z
  .object({ object: z.literal("list"), data: z.array(ApiKey), hasMore: z.boolean(), nextCursor: z.uuid().nullable() })
  .openapi("ApiKeyList");

const ApiKeyIdParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, description: "The API key id (a UUID)", example: "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10" }),
});

const createRoute_ = createRoute({
  operationId: "createApiKey",
  method: "post",
  path: "/",
  tags,
  summary: "Create an API key; its secret is shown only in this answer",
  description: "A key can grant only scopes it holds; a test key creates only test keys.",
  security,
  middleware: [limitBody, guardJson, idempotency] as const,
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: CreateApiKeyInput.openapi("CreateApiKeyInput") } } },
  },
  responses: { 201: json(CreatedApiKey, "The new key with its secret"), ...problems(413, 415, 422) },
});

apiKeyRoutes.openapi(createRoute_, async (c) => {
  const created = await createApiKey({ ctx: serviceCtxOf(c), input: c.req.valid("json") });
  c.set("idempotentReplayBody", JSON.stringify({ ...created, secret: null }));
  return c.json(created, 201);
});

const listRoute = createRoute({
  operationId: "listApiKeys",
  method: "get",
  path: "/",
  tags,
  summary: "List API keys, newest first (revoked ones included)",
  description: "A test key lists only test keys.",
  security,
  request: { query: pageQuery({ defaultLimit: 20, maxLimit: 100, cursor: z.string() }) },
  responses: { 200: json(ApiKeyList, "One page of keys"), ...problems(404, 422) },
});

apiKeyRoutes.openapi(listRoute, async (c) => c.json(await listApiKeys({ ctx: serviceCtxOf(c), input: c.req.valid("query") }), 200));
apiKeyRoutes.all("/", methodNotAllowed(["GET", "POST"]));

const getRoute = createRoute({
  operationId: "getApiKey",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an API key's metadata",
  security,
  request: { params: ApiKeyIdParams },
  responses: { 200: json(ApiKey, "The key (never its secret)"), ...problems(404) },
});

apiKeyRoutes.openapi(getRoute, async (c) => c.json(await getApiKey({ ctx: serviceCtxOf(c), input: { id: c.req.valid("param").id } }), 200));

const revokeRoute = createRoute({
  operationId: "revokeApiKey",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Revoke an API key; it stops working at once",
  description: "Revoking a revoked key changes nothing.",
  security,
  request: { params: ApiKeyIdParams },
  responses: { 200: json(ApiKey, "The revoked key"), ...problems(404) },
});

apiKeyRoutes.openapi(revokeRoute, async (c) => c.json(await revokeApiKey({ ctx: serviceCtxOf(c), input: { id: c.req.valid("param").id } }), 200));
apiKeyRoutes.all("/:id", methodNotAllowed(["GET", "DELETE"]));
