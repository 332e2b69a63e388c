/**
 * The ONE map from route to scope (issue 8): every /v1 operation of the OpenAPI document, as
 * `METHOD /v1/path/{param}`, needs exactly one scope. `requireScope` (edge/middleware/auth.ts) consults it after
 * authentication. A (method, path) without an entry needs `admin`: a route added without a decision is closed,
 * not open (edge/test/scopes.test.ts fails for any documented route missing here).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Scope } from "../../core/domain/scopes";

export const ROUTE_SCOPES: Readonly<Record<string, Scope>> = {
  "GET /v1/batches": "batches:read",
  "POST /v1/batches": "batches:write",
  "GET /v1/batches/{id}": "batches:read",
  "GET /v1/batches/{id}/recipients": "batches:read",
  "POST /v1/batches/{id}/recipients": "batches:write",
  "GET /v1/batches/{id}/preview": "batches:read",
  "POST /v1/batches/{id}/send": "batches:write",
  "POST /v1/batches/{id}/pause": "batches:write",
  "POST /v1/batches/{id}/resume": "batches:write",
  "POST /v1/batches/{id}/cancel": "batches:write",
  "POST /v1/batches/{id}/retry": "batches:write",
  "GET /v1/usage": "batches:read",
  "GET /v1/api-keys": "admin",
  "POST /v1/api-keys": "admin",
  "GET /v1/api-keys/{id}": "admin",
  "DELETE /v1/api-keys/{id}": "admin",
  "DELETE /v1/batches/{id}": "batches:write",
  "GET /v1/domains": "batches:read",
  "GET /v1/domains/{id}": "batches:read",
  "POST /v1/domains": "admin",
  "DELETE /v1/domains/{id}": "admin",
  "POST /v1/domains/{id}/verify": "admin",
  "GET /v1/send-configs": "batches:read",
  "GET /v1/send-configs/{id}": "batches:read",
  "POST /v1/send-configs": "admin",
  "PATCH /v1/send-configs/{id}": "admin",
  "DELETE /v1/send-configs/{id}": "admin",
  "GET /v1/suppressions": "batches:read",
  "GET /v1/suppressions/{channel}/{address}": "batches:read",
  "GET /v1/suppressions/export": "batches:read",
  "POST /v1/suppressions": "suppressions:write",
  "DELETE /v1/suppressions/{channel}/{address}": "suppressions:write",
  "POST /v1/suppressions/import": "suppressions:write",
  "GET /v1/webhook-endpoints": "admin",
  "POST /v1/webhook-endpoints": "admin",
  "GET /v1/webhook-endpoints/{id}": "admin",
  "PATCH /v1/webhook-endpoints/{id}": "admin",
  "DELETE /v1/webhook-endpoints/{id}": "admin",
  "POST /v1/webhook-endpoints/{id}/rotate-secret": "admin",
  "GET /v1/webhook-endpoints/{id}/deliveries": "admin",
  "POST /v1/webhook-endpoints/{id}/deliveries/{deliveryId}/replay": "admin",
};

/** What a route without an entry needs (fail closed). */
export const UNMAPPED_SCOPE: Scope = "admin";

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  /** Literal segments first: `/v1/x/export` must win over `/v1/x/{id}`. */
  params: number;
  scope: Scope;
}

// Per-isolate cache of the compiled map: pure data derived from the constant above.
const compiled: CompiledRoute[] = Object.entries(ROUTE_SCOPES)
  .map(([key, scope]) => {
    const [method, template] = key.split(" ") as [string, string];
    const params = (template.match(/\{[^}]+\}/g) ?? []).length;
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`);
    return { method, pattern, params, scope };
  })
  .sort((a, b) => a.params - b.params);

/** The scope a request needs: its route's entry, or `admin` when nothing matches. */
export function scopeFor(method: string, pathname: string): Scope {
  const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  return compiled.find((r) => r.method === m && r.pattern.test(pathname))?.scope ?? UNMAPPED_SCOPE;
}

/**
 * Writes each operation's scope into the OpenAPI document from this map (so the two cannot disagree): the
 * security requirement names it (OpenAPI 3.1 allows roles for any scheme) and the description says it.
 * Call once, after every route group is mounted.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function documentScopes(app: OpenAPIHono<any>): void {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route") continue;
    const scope = ROUTE_SCOPES[`${def.route.method.toUpperCase()} ${def.route.path}`];
    if (!scope) continue;
    def.route.security = [{ apiKey: [scope] }];
    const needs = `Needs scope \`${scope}\`.`;
    def.route.description = def.route.description ? `${needs} ${def.route.description}` : needs;
  }
}
