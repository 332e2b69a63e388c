// Issue 8: scopes are enforced on every route. The map (edge/http/scopes.ts) must name a scope for every /v1
// operation of the served document, and every route × every scope is allowed exactly when the key holds
// the route's scope (admin holds all); otherwise a 403 problem naming it.
import { describe, expect, it } from "vitest";
import { hasScope, SCOPES } from "../../core/domain/scopes";
import { ROUTE_SCOPES, scopeFor } from "../http/scopes";
import { call, newKey, newTenant } from "./harness";
import { loadDocument } from "./openapi-conformance";

const SOME_UUID = "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10";

async function documentedV1Routes(): Promise<{ method: string; template: string }[]> {
  const { doc } = await loadDocument();
  const routes: { method: string; template: string }[] = [];
  for (const [template, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
    if (!template.startsWith("/v1/")) continue;
    for (const method of Object.keys(item)) routes.push({ method: method.toUpperCase(), template });
  }
  return routes;
}

describe("API-key scopes", () => {
  it("every documented /v1 route has a scope in edge/http/scopes.ts, and every entry is a documented route", async () => {
    const routes = await documentedV1Routes();
    expect(routes.length).toBeGreaterThan(10);
    const documented = routes.map((r) => `${r.method} ${r.template}`);
    expect(documented.filter((k) => !(k in ROUTE_SCOPES)), "routes without a scope").toEqual([]);
    expect(Object.keys(ROUTE_SCOPES).filter((k) => !documented.includes(k)), "scopes of undocumented routes").toEqual([]);
  });

  it("the document states each operation's scope and lists the scopes", async () => {
    const { doc } = await loadDocument();
    for (const { method, template } of await documentedV1Routes()) {
      const op = doc.paths[template][method.toLowerCase()];
      expect(op.description ?? "", `${method} ${template}`).toContain(`\`${ROUTE_SCOPES[`${method} ${template}`]}\``);
    }
    for (const scope of SCOPES) expect(doc.components.securitySchemes.apiKey.description).toContain(scope);
  });

  it("a route nobody mapped needs admin (closed, not open)", () => {
    expect(scopeFor("GET", "/v1/not-mapped")).toBe("admin");
    expect(scopeFor("PATCH", "/v1/batches")).toBe("admin");
    expect(scopeFor("GET", `/v1/batches/${SOME_UUID}`)).toBe("batches:read");
    expect(scopeFor("HEAD", "/v1/batches")).toBe("batches:read");
  });

  it("every route × every scope: allowed, or a 403 problem naming the missing scope", async () => {
    const t = await newTenant();
    const keys = new Map<string, string>();
    for (const scope of SCOPES) keys.set(scope, (await newKey(t.tenantId, { scopes: [scope] })).apiKey);
    const routes = await documentedV1Routes();
    for (const { method, template } of routes) {
      const needed = ROUTE_SCOPES[`${method} ${template}`]!;
      const path = template.replace(/\{[^}]+\}/g, SOME_UUID);
      for (const scope of SCOPES) {
        const res = await call(method, path, { apiKey: keys.get(scope)!, ...(method === "POST" ? { body: {} } : {}) });
        const what = `${method} ${template} with ${scope}`;
        if (hasScope([scope], needed)) {
          expect([401, 403], what).not.toContain(res.status);
        } else {
          expect(res.status, what).toBe(403);
          expect(res.headers.get("content-type"), what).toContain("application/problem+json");
          expect(res.body, what).toMatchObject({ status: 403, code: "forbidden", scope: needed });
          expect(res.body.detail, what).toContain(needed);
        }
      }
    }
  });

  it("a key with several scopes has each of them; a key with none has nothing", async () => {
    const t = await newTenant();
    const rw = (await newKey(t.tenantId, { scopes: ["batches:read", "batches:write"] })).apiKey;
    expect((await call("GET", "/v1/batches", { apiKey: rw })).status).toBe(200);
    expect((await call("POST", "/v1/batches", { apiKey: rw, body: {} })).status).toBe(422);
    expect((await call("GET", "/v1/api-keys", { apiKey: rw })).status).toBe(403);
    const none = (await newKey(t.tenantId, { scopes: [] })).apiKey;
    expect((await call("GET", "/v1/batches", { apiKey: none })).body).toMatchObject({ status: 403, scope: "batches:read" });
    // Strings that are not scopes grant nothing either.
    const odd = (await newKey(t.tenantId, { scopes: ["batches:*", "ADMIN"] })).apiKey;
    expect((await call("GET", "/v1/usage", { apiKey: odd })).status).toBe(403);
  });
});
