/**
 * API-key auth: `Authorization: Bearer bs_live_…`. A cheap shape check first (no query for garbage), then a
 * lookup by sha-256 (the key itself is never stored; equality on a hash leaks nothing useful by timing).
 * Missing, unknown, revoked or expired keys all answer the same 401 with `WWW-Authenticate: Bearer`.
 * Then `requireScope`: the route's scope (edge/http/scopes.ts) or a 403 naming it.
 */
import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { apiKeys } from "../../core/db/schema";
import { looksLikeApiKey, sha256Hex } from "../../core/domain/api-keys";
import { AppError } from "../../core/domain/problem";
import { hasScope } from "../../core/domain/scopes";
import type { AppEnv } from "../hono-env";
import { scopeFor } from "../http/scopes";

const LAST_USED_RESOLUTION_MS = 60_000;

function unauthorized(detail: string, invalidToken: boolean): AppError {
  const challenge = invalidToken ? 'Bearer realm="batchsender", error="invalid_token"' : 'Bearer realm="batchsender"';
  return new AppError("unauthorized", detail, { headers: { "WWW-Authenticate": challenge } });
}

/** The well-formed API key the request presents, if any (its shape only: nothing is looked up). */
export function presentedApiKey(header: string | undefined): string | undefined {
  const candidate = header ? /^Bearer +(\S+)$/i.exec(header.trim())?.[1] : undefined;
  return candidate && looksLikeApiKey(candidate) ? candidate : undefined;
}

export const apiKeyAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  if (!header) throw unauthorized("Missing API key: send Authorization: Bearer <key>", false);
  const candidate = presentedApiKey(header);
  if (!candidate) throw unauthorized("Invalid API key", true);

  const db = c.get("db");
  const [key] = await db
    .select({ id: apiKeys.id, tenantId: apiKeys.tenantId, mode: apiKeys.mode, scopes: apiKeys.scopes, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.keyHash, await sha256Hex(candidate)),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)),
      ),
    )
    .limit(1);
  if (!key) throw unauthorized("Invalid API key", true);
  c.set("caller", { tenantId: key.tenantId, apiKeyId: key.id, mode: key.mode, scopes: key.scopes });

  // At most one write a minute per key, after the response; the WHERE keeps racing isolates from piling up.
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    c.get("defer")(
      "api key last_used_at",
      db.execute(sql`update api_keys set last_used_at = now()
                      where id = ${key.id} and (last_used_at is null or last_used_at < now() - interval '1 minute')`),
    );
  }
  await next();
};

/** After apiKeyAuth: the key must hold the scope its route needs (`admin` holds all). */
export const requireScope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const needed = scopeFor(c.req.method, new URL(c.req.url).pathname);
  if (!hasScope(c.get("caller").scopes, needed)) {
    throw new AppError("forbidden", `This API key lacks the scope ${needed}, which this route needs`, { members: { scope: needed } });
  }
  await next();
};
