/**
 * rotateEndpointSecret: a new signing secret, shown once. The old one keeps signing for `overlapSeconds`
 * (default 24 h; 0 drops it at once): meanwhile every delivery carries both signatures in its
 * `webhook-signature` header (Standard Webhooks allows several), so a receiver can deploy the new secret
 * without dropping a single event. Rotating again during an overlap drops the oldest secret: at most two sign.
 */
import { and, eq } from "drizzle-orm";
import { webhookEndpoints } from "../../../core/db/schema";
import { generateWebhookSecret, SECRET_ROTATION_OVERLAP_SECONDS } from "../../../core/domain/webhook-events";
import type { ServiceCtx } from "../service-ctx";
import { endpointScope, loadEndpoint, notFound, secretBinding, toEndpointView, type EndpointDeps, type EndpointView } from "./endpoint-view";

export const MAX_OVERLAP_SECONDS = 7 * 24 * 60 * 60;

export async function rotateEndpointSecret({
  ctx,
  input,
  deps,
}: {
  ctx: ServiceCtx;
  input: { id: string; overlapSeconds?: number };
  deps: Pick<EndpointDeps, "sealer">;
}): Promise<EndpointView & { secret: string }> {
  const overlap = input.overlapSeconds ?? SECRET_ROTATION_OVERLAP_SECONDS;
  const current = await loadEndpoint(ctx.db, ctx, input.id);
  const secret = generateWebhookSecret();
  const sealed = await deps.sealer.seal(secret, secretBinding(current));
  const keep = overlap > 0;
  const [row] = await ctx.db
    .update(webhookEndpoints)
    .set({
      secretCiphertext: sealed.ciphertext,
      secretKeyId: sealed.keyId,
      previousSecretCiphertext: keep ? current.secretCiphertext : null,
      previousSecretKeyId: keep ? current.secretKeyId : null,
      previousSecretExpiresAt: keep ? new Date(Date.now() + overlap * 1000) : null,
      updatedAt: new Date(),
    })
    // Guarded on the secret read above: two rotations racing cannot both demote the same secret.
    .where(and(endpointScope(ctx), eq(webhookEndpoints.id, current.id), eq(webhookEndpoints.secretCiphertext, current.secretCiphertext)))
    .returning();
  if (!row) throw notFound(input.id);
  return { ...toEndpointView(row), secret };
}
