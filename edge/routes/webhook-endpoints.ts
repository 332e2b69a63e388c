/**
 * /v1/webhook-endpoints: where a tenant receives its events (issue 8 item 5; delivery: issue 9 item 8).
 * Thin handlers over edge/services/webhook-endpoints; the secret appears only in the answers of create
 * and rotate-secret.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { configSealer } from "../adapters/secret-sealer";
import type { AppEnv } from "../hono-env";
import { guardJson, limitBody } from "../http/json-body";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { idempotency } from "../middleware/idempotency";
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
  type EndpointDeps,
} from "../services/webhook-endpoints";
import { json } from "./batch-schemas";
import { IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";
import {
  CreateWebhookEndpointInput,
  DeletedWebhookEndpoint,
  EndpointIdParams,
  RotateSecretInput,
  UpdateWebhookEndpointInput,
  WebhookEndpoint,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
} from "./webhook-endpoint-schemas";

export const webhookEndpointRoutes = openApiApp();

const security = [{ apiKey: [] }];
const tags = ["Webhook endpoints"];
const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

function depsOf(c: Context<AppEnv>): EndpointDeps {
  const config = c.get("config");
  return { sealer: configSealer(config), allowedHosts: config.WEBHOOK_ALLOWED_HOSTS };
}

const createRouteDef = createRoute({
  operationId: "createWebhookEndpoint",
  method: "post",
  path: "/",
  tags,
  summary: "Add an endpoint; the answer holds its signing secret, shown this once",
  security,
  middleware: [limitBody, guardJson, idempotency] as const,
  request: { headers: IdempotencyHeaders, body: jsonBody(CreateWebhookEndpointInput) },
  responses: { 201: json(WebhookEndpointWithSecret, "The endpoint and its secret"), ...problems(409, 413, 415, 422) },
});

webhookEndpointRoutes.openapi(createRouteDef, async (c) =>
  c.json(await createEndpoint({ ctx: serviceCtxOf(c), input: c.req.valid("json"), deps: depsOf(c) }), 201),
);

const listRoute = createRoute({
  operationId: "listWebhookEndpoints",
  method: "get",
  path: "/",
  tags,
  summary: "List endpoints, newest first",
  security,
  request: { query: pageQuery({ defaultLimit: 20, maxLimit: 100, cursor: z.string() }) },
  responses: { 200: json(WebhookEndpointList, "One page of endpoints"), ...problems(404, 422) },
});

webhookEndpointRoutes.openapi(listRoute, async (c) => c.json(await listEndpoints({ ctx: serviceCtxOf(c), input: c.req.valid("query") }), 200));
webhookEndpointRoutes.all("/", methodNotAllowed(["GET", "POST"]));

const getRoute = createRoute({
  operationId: "getWebhookEndpoint",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an endpoint (never its secret)",
  security,
  request: { params: EndpointIdParams },
  responses: { 200: json(WebhookEndpoint, "The endpoint"), ...problems(404) },
});

webhookEndpointRoutes.openapi(getRoute, async (c) => c.json(await getEndpoint({ ctx: serviceCtxOf(c), input: { id: c.req.valid("param").id } }), 200));

const updateRoute = createRoute({
  operationId: "updateWebhookEndpoint",
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Change the URL, description or event filter; enable or disable",
  description: "Enabling an endpoint that was disabled (by hand, or automatically for failing) resets its failure count.",
  security,
  middleware: [limitBody, guardJson] as const,
  request: { params: EndpointIdParams, body: jsonBody(UpdateWebhookEndpointInput) },
  responses: { 200: json(WebhookEndpoint, "The endpoint as changed"), ...problems(404, 413, 415, 422) },
});

webhookEndpointRoutes.openapi(updateRoute, async (c) =>
  c.json(await updateEndpoint({ ctx: serviceCtxOf(c), input: { id: c.req.valid("param").id, patch: c.req.valid("json") }, deps: depsOf(c) }), 200),
);

const deleteRoute = createRoute({
  operationId: "deleteWebhookEndpoint",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete an endpoint and its delivery log",
  security,
  request: { params: EndpointIdParams },
  responses: { 200: json(DeletedWebhookEndpoint, "Deleted"), ...problems(404) },
});

webhookEndpointRoutes.openapi(deleteRoute, async (c) => c.json(await deleteEndpoint({ ctx: serviceCtxOf(c), input: { id: c.req.valid("param").id } }), 200));
webhookEndpointRoutes.all("/:id", methodNotAllowed(["GET", "PATCH", "DELETE"]));

const rotateRoute = createRoute({
  operationId: "rotateWebhookEndpointSecret",
  method: "post",
  path: "/{id}/rotate-secret",
  tags,
  summary: "Replace the signing secret; the old one keeps signing during the overlap (default 24 h)",
  security,
  middleware: [limitBody, guardJson, idempotency] as const,
  request: {
    params: EndpointIdParams,
    headers: IdempotencyHeaders,
    body: { required: false, content: { "application/json": { schema: RotateSecretInput } } },
  },
  responses: { 200: json(WebhookEndpointWithSecret, "The endpoint and its new secret"), ...problems(404, 413, 415, 422) },
});

webhookEndpointRoutes.openapi(rotateRoute, async (c) => {
  const body = c.req.header("content-type") ? c.req.valid("json") : {};
  const input = { id: c.req.valid("param").id, overlapSeconds: body.overlapSeconds };
  return c.json(await rotateEndpointSecret({ ctx: serviceCtxOf(c), input, deps: depsOf(c) }), 200);
});
webhookEndpointRoutes.all("/:id/rotate-secret", methodNotAllowed(["POST"]));
