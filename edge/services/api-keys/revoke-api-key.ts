/**
 * revokeApiKey: sets `revoked_at` once (a second revoke changes nothing and answers the same key). The key
 * stops authenticating on its next request: auth looks keys up with `revoked_at is null`, no cache.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { apiKeys, auditLog } from "../../../core/db/schema";
import type { ServiceCtx } from "../service-ctx";
import { apiKeyScope, loadScopedApiKey, toApiKeyView, type ApiKeyView } from "./api-key-view";

export async function revokeApiKey({ ctx, input }: { ctx: ServiceCtx; input: { id: string } }): Promise<ApiKeyView> {
  await loadScopedApiKey(ctx.db, ctx, input.id);
  return ctx.db.transaction(async (tx) => {
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(apiKeyScope(ctx), eq(apiKeys.id, input.id), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (revoked.length) {
      await tx.insert(auditLog).values({
        tenantId: ctx.tenantId,
        actor: ctx.actor,
        action: "api_key.revoked",
        targetType: "api_key",
        targetId: input.id,
        data: {},
        requestId: ctx.requestId ?? null,
      });
    }
    return toApiKeyView(await loadScopedApiKey(tx, ctx, input.id));
  });
}
