/**
 * createEndpoint: a new customer webhook endpoint with a fresh Standard Webhooks secret, sealed at rest and
 * returned in this answer only. The row id is chosen here so the secret can be bound to it (AAD) before the
 * insert: a ciphertext copied to another endpoint or tenant does not open.
 */
import { count } from "drizzle-orm";
import { webhookEndpoints } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import { generateWebhookSecret } from "../../../core/domain/webhook-events";
import type { ServiceCtx } from "../service-ctx";
import { assertEndpointUrl, endpointScope, secretBinding, toEndpointView, type EndpointDeps, type EndpointView } from "./endpoint-view";

/** Per tenant and mode: fan-out per event is bounded by this. */
export const MAX_ENDPOINTS = 20;

export interface CreateEndpointInput {
  url: string;
  description?: string | null;
  eventTypes: string[];
  enabled: boolean;
}

export async function createEndpoint({ ctx, input, deps }: { ctx: ServiceCtx; input: CreateEndpointInput; deps: EndpointDeps }): Promise<EndpointView & { secret: string }> {
  assertEndpointUrl(input.url, deps.allowedHosts);
  const [existing] = await ctx.db.select({ n: count() }).from(webhookEndpoints).where(endpointScope(ctx));
  if ((existing?.n ?? 0) >= MAX_ENDPOINTS) throw new AppError("conflict", `At most ${MAX_ENDPOINTS} webhook endpoints per account and mode`);
  const id = crypto.randomUUID();
  const secret = generateWebhookSecret();
  const sealed = await deps.sealer.seal(secret, secretBinding({ tenantId: ctx.tenantId, id }));
  const [row] = await ctx.db
    .insert(webhookEndpoints)
    .values({
      id,
      tenantId: ctx.tenantId,
      mode: ctx.mode,
      url: new URL(input.url).href,
      description: input.description ?? null,
      eventTypes: [...new Set(input.eventTypes)].sort(),
      enabled: input.enabled,
      disabledReason: input.enabled ? null : "manual",
      disabledAt: input.enabled ? null : new Date(),
      secretCiphertext: sealed.ciphertext,
      secretKeyId: sealed.keyId,
    })
    .returning();
  return { ...toEndpointView(row!), secret };
}
