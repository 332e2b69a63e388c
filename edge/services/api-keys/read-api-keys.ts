/** getApiKey / listApiKeys: tenant-scoped reads of key metadata (never the secret or its hash). */
import { and, desc, sql } from "drizzle-orm";
import { apiKeys } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import { listPage, type ListPage } from "../list-page";
import type { ServiceCtx } from "../service-ctx";
import { apiKeyScope, loadScopedApiKey, toApiKeyView, type ApiKeyView } from "./api-key-view";

export async function getApiKey({ ctx, input }: { ctx: ServiceCtx; input: { id: string } }): Promise<ApiKeyView> {
  return toApiKeyView(await loadScopedApiKey(ctx.db, ctx, input.id));
}

export type ApiKeyList = ListPage<ApiKeyView>;

/** Newest first, revoked keys included (with `revokedAt`); `starting_after` is the last id of the previous page. */
export async function listApiKeys({ ctx, input }: { ctx: ServiceCtx; input: { limit: number; starting_after?: string } }): Promise<ApiKeyList> {
  let where = apiKeyScope(ctx);
  if (input.starting_after) {
    const cursor = await loadScopedApiKey(ctx.db, ctx, input.starting_after).catch(() => {
      throw new AppError("not_found", `API key ${input.starting_after} (starting_after) not found`);
    });
    where = and(where, sql`(${apiKeys.createdAt}, ${apiKeys.id}) < (select created_at, id from api_keys where id = ${cursor.id}::uuid)`)!;
  }
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(where)
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(input.limit + 1);
  return listPage(rows, input.limit, toApiKeyView);
}
