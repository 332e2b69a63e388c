/** /v1/webhook-endpoints/{id}/deliveries: an endpoint's delivery log and manual replay (issue 9 item 8). */
import { createRoute, z } from "@hono/zod-openapi";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { idempotency } from "../middleware/idempotency";
import { listDeliveries, replayDelivery } from "../services/webhook-endpoints";
import { json } from "./batch-schemas";
import { IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";
import { DeliveryParams, DeliveryStatusQuery, EndpointIdParams, WebhookDelivery, WebhookDeliveryList } from "./webhook-endpoint-schemas";

export const webhookDeliveryRoutes = openApiApp();

const security = [{ apiKey: [] }];
const tags = ["Webhook endpoints"];

const listRoute = createRoute({
  operationId: "listWebhookDeliveries",
  method: "get",
  path: "/{id}/deliveries",
  tags,
  summary: "An endpoint's deliveries, newest first (status, attempts, last answer)",
  security,
  request: {
    params: EndpointIdParams,
    query: pageQuery({ defaultLimit: 50, maxLimit: 500, cursor: z.string().regex(/^[1-9][0-9]{0,14}$/, "a delivery id") }).extend(DeliveryStatusQuery.shape),
  },
  responses: { 200: json(WebhookDeliveryList, "One page of deliveries"), ...problems(404, 422) },
});

webhookDeliveryRoutes.openapi(listRoute, async (c) => {
  const input = { endpointId: c.req.valid("param").id, ...c.req.valid("query") };
  return c.json(await listDeliveries({ ctx: serviceCtxOf(c), input }), 200);
});
webhookDeliveryRoutes.all("/:id/deliveries", methodNotAllowed(["GET"]));

const replayRoute = createRoute({
  operationId: "replayWebhookDelivery",
  method: "post",
  path: "/{id}/deliveries/{deliveryId}/replay",
  tags,
  summary: "Send a delivery again now, with a fresh retry schedule (same webhook-id)",
  security,
  middleware: [idempotency] as const,
  request: { params: DeliveryParams, headers: IdempotencyHeaders },
  responses: { 200: json(WebhookDelivery, "The delivery, pending and due now"), ...problems(404, 409, 422) },
});

webhookDeliveryRoutes.openapi(replayRoute, async (c) => {
  const p = c.req.valid("param");
  return c.json(await replayDelivery({ ctx: serviceCtxOf(c), input: { endpointId: p.id, deliveryId: p.deliveryId } }), 200);
});
webhookDeliveryRoutes.all("/:id/deliveries/:deliveryId/replay", methodNotAllowed(["POST"]));
