import type { Context } from "hono";
import type { AppEnv } from "../hono-env";
import type { ServiceCtx } from "../services/service-ctx";

/** The verb context of an authenticated request. */
export function serviceCtxOf(c: Context<AppEnv>): ServiceCtx {
  const caller = c.get("caller");
  return {
    db: c.get("db"),
    tenantId: caller.tenantId,
    mode: caller.mode,
    scopes: caller.scopes,
    traceId: c.get("traceId"),
    requestId: c.get("requestId"),
    actor: `api_key:${caller.apiKeyId}`,
    publisher: c.get("publisher"),
    wakeups: c.get("wakeups"),
    defaultRegion: c.get("config").DEFAULT_REGION,
  };
}
