import { describe, expect, it } from "vitest";
import { call, testEnv } from "./harness";

/** A port in this project's range that nothing listens on. */
const DEAD_PROXY = "127.0.0.1:20298/v2";

/** The test database under another spelling (trust auth ignores the password): its own readiness cache entry. */
function freshDatabaseUrl(): string {
  const url = new URL(testEnv.DATABASE_URL as string);
  url.password = crypto.randomUUID().slice(0, 8);
  return url.toString();
}

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

  it("GET /health/ready answers from a per-isolate cache: no database connection per request", async () => {
    const DATABASE_URL = freshDatabaseUrl();
    const first = await call("GET", "/health/ready", { envOverrides: { DATABASE_URL } });
    expect(first.status).toBe(200);
    // Postgres is now unreachable for this env (dead proxy), yet the answer is the cached one: nothing was opened.
    const cached = await call("GET", "/health/ready", { envOverrides: { DATABASE_URL, NEON_WS_PROXY: DEAD_PROXY } });
    expect(cached.status).toBe(200);
    // The check is real: an uncached URL behind the dead proxy is 503.
    const down = await call("GET", "/health/ready", { envOverrides: { DATABASE_URL: freshDatabaseUrl(), NEON_WS_PROXY: DEAD_PROXY } });
    expect(down.status).toBe(503);
    expect(down.body.code).toBe("unavailable");
    expect((await call("GET", "/health/ready")).status).toBe(200);
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

  it("a misconfigured Worker fails closed with a generic 500 problem that names no setting and no value", async () => {
    const broken: Record<string, string>[] = [
      { IP_RATE_WINDOW: "sometimes" },
      { DATABASE_URL: "mysql://admin:hunter2-secret@db.internal/prod" },
      { UPSTASH_REDIS_REST_TOKEN: "" },
      { NATS_WS_URL_ASHBURN: "not a url with s3cret-token" },
      { NATS_PUBLISHER: "" },
      { DASHBOARD_ORIGIN: "https://dashboard.example.com/path" },
    ];
    for (const overrides of broken) {
      for (const path of ["/health", "/v1/batches"]) {
        const res = await call("GET", path, { envOverrides: overrides });
        const what = `${JSON.stringify(overrides)} ${path}`;
        expect(res.status, what).toBe(500);
        expect(res.headers.get("content-type"), what).toContain("application/problem+json");
        expect(res.body, what).toMatchObject({ code: "internal", detail: "An unexpected error occurred.", requestId: res.headers.get("request-id") });
        const text = JSON.stringify(res.body) + [...res.headers].join();
        for (const [name, value] of Object.entries(overrides)) {
          expect(text, what).not.toContain(name);
          if (value) expect(text, what).not.toContain(value);
        }
        for (const leak of ["hunter2", "s3cret", "postgres://", "DATABASE_URL", "TOKEN"]) expect(text, what).not.toContain(leak);
      }
    }
  });
});
