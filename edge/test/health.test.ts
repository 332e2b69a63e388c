import { describe, expect, it } from "vitest";
import { call } from "./harness";

describe("health and routing", () => {
  it("GET /health answers ok with a Request-Id", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers.get("request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("GET /health/ready checks Postgres", async () => {
    const res = await call("GET", "/health/ready");
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ postgres: "ok" });
  });

  it("unknown route → 404 problem, wrong method → 405 problem with Allow", async () => {
    const missing = await call("GET", "/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
    expect(missing.body).toMatchObject({ status: 404, code: "not_found", requestId: missing.headers.get("request-id") });

    const wrong = await call("DELETE", "/health");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    expect(wrong.body.code).toBe("method_not_allowed");
  });

  it("a misconfigured Worker fails closed with a readable 500 problem", async () => {
    const res = await call("GET", "/health", { envOverrides: { IP_RATE_WINDOW: "sometimes" } });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe("internal");
    expect(res.body.detail).toContain("IP_RATE_WINDOW");
    expect(JSON.stringify(res.body)).not.toContain("postgres://");
  });
});
