/** Request and response schemas of /v1/webhook-endpoints (the documented public shapes). */
import { z } from "@hono/zod-openapi";
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from "../../core/domain/webhook-events";
import { MAX_OVERLAP_SECONDS } from "../services/webhook-endpoints";

const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: "2026-12-01T15:00:00.000Z" });

export const EventType = z.enum(WEBHOOK_EVENT_TYPES);
const EventTypes = z
  .array(EventType)
  .max(WEBHOOK_EVENT_TYPES.length)
  .openapi({ description: "Event types delivered to this endpoint; empty = all", example: ["recipient.bounced", "recipient.complained"] });
const Url = z.string().min(1).max(2048).openapi({
  description: "https URL on a public host (checked against the SSRF rules now and at every delivery)",
  example: "https://hooks.example.com/batchsender",
});
const Description = z.string().max(500).nullable();

export const WebhookEndpoint = z
  .object({
    object: z.literal("webhook_endpoint"),
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.enum(["manual", "failing"]).nullable(),
    disabledAt: Timestamp.nullable(),
    previousSecretExpiresAt: Timestamp.nullable().openapi({ description: "Until then the rotated-out secret still signs too" }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("WebhookEndpoint");

export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().openapi({ description: "Standard Webhooks signing secret (`whsec_…`). Shown only in this answer.", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
}).openapi("WebhookEndpointWithSecret");

export const WebhookEndpointList = z
  .object({ object: z.literal("list"), data: z.array(WebhookEndpoint), hasMore: z.boolean(), nextCursor: z.uuid().nullable() })
  .openapi("WebhookEndpointList");

export const DeletedWebhookEndpoint = z
  .object({ object: z.literal("webhook_endpoint"), id: z.uuid(), deleted: z.literal(true) })
  .openapi("DeletedWebhookEndpoint");

export const CreateWebhookEndpointInput = z
  .object({ url: Url, description: Description.optional(), eventTypes: EventTypes.default([]), enabled: z.boolean().default(true) })
  .strict()
  .openapi("CreateWebhookEndpointInput");

export const UpdateWebhookEndpointInput = z
  .object({ url: Url.optional(), description: Description.optional(), eventTypes: EventTypes.optional(), enabled: z.boolean().optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "name at least one field to change")
  .openapi("UpdateWebhookEndpointInput");

export const RotateSecretInput = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_OVERLAP_SECONDS)
      .optional()
      .openapi({ description: "How long the old secret keeps signing (default 86400 = 24 h; 0 = stop now)" }),
  })
  .strict()
  .openapi("RotateSecretInput");

export const EndpointIdParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, description: "The endpoint id (a UUID)", example: "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10" }),
});

export const WebhookDelivery = z
  .object({
    object: z.literal("webhook_delivery"),
    id: z.string().openapi({ example: "4711" }),
    endpointId: z.uuid(),
    eventId: z.string().openapi({ description: "The `webhook-id` header, the same on every attempt" }),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    nextAttemptAt: Timestamp.nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    payload: z.unknown(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("WebhookDelivery");

export const WebhookDeliveryList = z
  .object({ object: z.literal("list"), data: z.array(WebhookDelivery), hasMore: z.boolean(), nextCursor: z.string().nullable() })
  .openapi("WebhookDeliveryList");

export const DeliveryParams = EndpointIdParams.extend({
  deliveryId: z.string().openapi({ param: { name: "deliveryId", in: "path" }, example: "4711" }),
});

export const DeliveryStatusQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional().openapi({ param: { name: "status", in: "query" } }),
});
