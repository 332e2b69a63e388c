import { describe, expect, it } from "vitest";
import { generateApiKey } from "../../core/domain/api-keys";
import { call, newTenant, query, type ApiResponse } from "./harness";

function expectUnauthorized(res: ApiResponse) {
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
  expect(res.body).toMatchObject({ status: 401, code: "unauthorized" });
  expect(res.body.requestId).toBe(res.headers.get("request-id"));
}

describe("API-key auth", () => {
  it("missing key → 401 problem with WWW-Authenticate: Bearer", async () => {
    expectUnauthorized(await call("GET", "/v1/batches"));
  });

  it("malformed and unknown keys → 401", async () => {
    expectUnauthorized(await call("GET", "/v1/batches", { apiKey: "not-a-key" }));
    expectUnauthorized(await call("GET", "/v1/batches", { apiKey: (await generateApiKey()).key }));
  });

  it("revoked and expired keys → 401", async () => {
    const revoked = await newTenant();
    await query("update api_keys set revoked_at = now() where id = $1", [revoked.apiKeyId]);
    expectUnauthorized(await call("GET", "/v1/batches", { apiKey: revoked.apiKey }));

    const expired = await newTenant();
    await query("update api_keys set expires_at = now() - interval '1 second' where id = $1", [expired.apiKeyId]);
    expectUnauthorized(await call("GET", "/v1/batches", { apiKey: expired.apiKey }));
  });

  it("a valid key is accepted and last_used_at is recorded", async () => {
    const t = await newTenant();
    const res = await call("GET", "/v1/batches", { apiKey: t.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ object: "list", data: [], hasMore: false, nextCursor: null });
    let lastUsed: unknown = null;
    for (let i = 0; i < 50 && !lastUsed; i++) {
      [{ last_used_at: lastUsed }] = (await query<{ last_used_at: unknown }>("select last_used_at from api_keys where id = $1", [t.apiKeyId])) as [
        { last_used_at: unknown },
      ];
      if (!lastUsed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(lastUsed).not.toBeNull();
  });
});
