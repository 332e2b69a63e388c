/**
 * The public view of an API key (never its hash) and the scope of every key query: the caller's tenant, and
 * for a test key only test keys. A live key manages both modes (the account's real keys are live); a test
 * key never sees or touches a live key — another tenant's key, or one outside the scope, is a 404.
 */
import { and, eq, type SQL } from "drizzle-orm";
import { apiKeys } from "../../../core/db/schema";
import type { ApiKeyMode } from "../../../core/domain/api-keys";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";

export interface ApiKeyView {
  id: string;
  object: "api_key";
  name: string;
  /** The first 12 characters (`bs_live_AbCd`), to tell keys apart. */
  prefix: string;
  scopes: string[];
  mode: ApiKeyMode;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

type ApiKeyRow = typeof apiKeys.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    object: "api_key",
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    mode: row.mode,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
  };
}

export function apiKeyScope(ctx: Pick<ServiceCtx, "tenantId" | "mode">): SQL {
  return and(eq(apiKeys.tenantId, ctx.tenantId), ctx.mode === "test" ? eq(apiKeys.mode, "test") : undefined)!;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The caller's key, or 404 (a malformed id is an id that does not exist). */
export async function loadScopedApiKey(db: Executor, ctx: Pick<ServiceCtx, "tenantId" | "mode">, id: string): Promise<ApiKeyRow> {
  if (!UUID.test(id)) throw new AppError("not_found", `API key ${id} not found`);
  const [row] = await db.select().from(apiKeys).where(and(apiKeyScope(ctx), eq(apiKeys.id, id)));
  if (!row) throw new AppError("not_found", `API key ${id} not found`);
  return row;
}
