/**
 * Deployment-level security: CORS only for the dashboard's origin, and no test or debug route in the
 * production configuration (every route the app registers is a documented public one, /admin, or /health).
 */
import { describe, expect, it } from "vitest";
import { buildApp } from "../app";
import { call, newTenant, testEnv } from "./harness";

const DASHBOARD = testEnv.DASHBOARD_ORIGIN as string;

describe("CORS", () => {
  it("is configured for the dashboard's origin", () => {
    expect(DASHBOARD).toMatch(/^https:\/\/dashboard\./);
  });

  it("answers the dashboard's preflight (credentials allowed) before any key or limit", async () => {
    const res = await call("OPTIONS", "/v1/batches", {
      headers: { origin: DASHBOARD, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(DASHBOARD);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("puts CORS headers on the dashboard's actual requests, errors included", async () => {
    const t = await newTenant();
    const ok = await call("GET", "/v1/batches", { apiKey: t.apiKey, headers: { origin: DASHBOARD } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(DASHBOARD);
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    expect(ok.headers.get("access-control-expose-headers")).toContain("Request-Id");
    const denied = await call("GET", "/v1/batches", { headers: { origin: DASHBOARD } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe(DASHBOARD);
  });

  it("gives any other origin no CORS headers at all, preflight included", async () => {
    const t = await newTenant();
    for (const origin of ["https://evil.example", `${DASHBOARD}.evil.example`, DASHBOARD.replace("https:", "http:"), "null"]) {
      const pre = await call("OPTIONS", "/v1/batches", { headers: { origin, "access-control-request-method": "POST" } });
      expect(pre.status, origin).not.toBe(204);
      const get = await call("GET", "/v1/batches", { apiKey: t.apiKey, headers: { origin } });
      expect(get.status).toBe(200);
      for (const res of [pre, get]) {
        const cors = [...res.headers.keys()].filter((h) => h.startsWith("access-control-"));
        expect(cors, origin).toEqual([]);
      }
      expect(get.headers.get("vary")).toContain("Origin");
    }
  });
});

describe("production configuration", () => {
  /** Every path the app answers; /admin is the operator API (404 without ADMIN_TOKEN, tested in failover-admin). */
  const ALLOWED = [/^\/health(\/ready)?$/, /^\/docs$/, /^\/v1\//, /^\/admin(\/|$)/, /^\/webhooks\//, /^\/?\*$/];

  it("registers no test or debug route: every route is a public, health or operator one", () => {
    const paths = [...new Set(buildApp().routes.map((r) => r.path))];
    expect(paths.length).toBeGreaterThan(5);
    for (const p of paths) {
      expect(ALLOWED.some((re) => re.test(p)), p).toBe(true);
      expect(p, p).not.toMatch(/debug|test|seed|reset|__/i);
    }
  });

  it("with the production settings and no ADMIN_TOKEN, debug-looking paths and the operator API are 404", async () => {
    const t = await newTenant();
    const production = { ENVIRONMENT: "production", ADMIN_TOKEN: "" };
    for (const path of ["/debug", "/test", "/__test", "/v1/test/reset", "/v1/debug", "/admin/failover", "/__scheduled", "/v1/__seed"]) {
      // With a valid key, so /v1 paths get past auth (without one they are a 401 that reveals nothing either).
      const res = await call("GET", path, { apiKey: t.apiKey, envOverrides: production });
      expect(res.status, path).toBe(404);
    }
  });
});
