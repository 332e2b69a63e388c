/**
 * What the three provider webhook routes share: the OpenAPI route shape (no API key: the provider's signature
 * is the authentication), the body size cap, the per-request services they need (a publisher and the replay
 * store only — no Postgres on this path), and refusing with a counted failure.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { EventProvider } from "../../../core/contract";
import { AppError, type ErrorCode } from "../../../core/domain/problem";
import { edgePublisher } from "../../adapters/routed-publisher";
import { replayStoreFor } from "../../adapters/replay-store";
import type { AppEnv } from "../../hono-env";
import { acceptProviderEvent } from "../../services/provider-events/accept-event";
import { countWebhookFailure } from "../../services/provider-events/failures";
import type { ProviderEventMessage } from "../../../core/contract";
import { json } from "../batch-schemas";
import { problemsExactly } from "../shared-schemas";

/** Providers send small JSON documents; anything larger is refused before it is parsed or verified. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export const WebhookReceipt = z
  .object({
    received: z.literal(true),
    eventId: z.string().optional(),
    subscription: z.enum(["confirmed", "ignored"]).optional(),
  })
  .openapi("ProviderWebhookReceipt");

export function webhookRoute(provider: EventProvider, contentType: "text/plain" | "application/json", summary: string) {
  return createRoute({
    operationId: `receive${provider.charAt(0).toUpperCase()}${provider.slice(1)}Webhook`,
    method: "post",
    path: "/",
    tags: ["Provider webhooks"],
    summary,
    security: [],
    request: {
      body: {
        required: true,
        // A JSON body is parsed as an object here (Hono keeps the raw text, which is what the signature covers
        // and what the handler verifies via c.req.text()); SNS posts JSON as text/plain.
        content: {
          [contentType]: {
            schema: contentType === "text/plain" ? z.string().openapi({ description: "The SNS message (JSON), verbatim" }) : z.record(z.string(), z.unknown()).openapi({ description: "The provider's signed event" }),
          },
        },
      },
    },
    responses: { 200: json(WebhookReceipt, "Verified and queued"), ...problemsExactly(400, 401, 404, 409, 413, 415, 422, 500, 503) },
  });
}

export const NOT_CONFIGURED = (provider: string) => new AppError("not_found", `${provider} webhooks are not configured here`);

/** Refuses the request and counts it for the provider. */
export function refuse(provider: EventProvider, code: ErrorCode, reason: string): never {
  countWebhookFailure(provider, reason);
  throw new AppError(code, `webhook refused: ${reason}`);
}

/** The raw body, size-capped. */
export async function rawBody(c: Context<AppEnv>, provider: EventProvider): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_WEBHOOK_BYTES) refuse(provider, "payload_too_large", "too_large");
  const text = await c.req.text();
  if (text.length > MAX_WEBHOOK_BYTES) refuse(provider, "payload_too_large", "too_large");
  if (text.length === 0) refuse(provider, "bad_request", "empty_body");
  return text;
}

/** Publishes a verified, normalised event (replay check first) into the region this edge serves. */
export function accept(c: Context<AppEnv>, event: Omit<ProviderEventMessage, "receivedAt">) {
  const config = c.get("config");
  return acceptProviderEvent({ publisher: edgePublisher(c.env), replay: replayStoreFor(config), region: config.DEFAULT_REGION, traceId: c.get("traceId") }, event);
}

