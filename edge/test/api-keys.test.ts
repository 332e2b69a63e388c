// Issue 8: /v1/api-keys — create (secret shown once), list, get, revoke, expiry; scope admin; tenant isolation
// and test/live separation; an idempotent replay never returns (or stores) the secret.
import { describe, expect, it } from "vitest";
import { call, newKey, newTenant, query } from "./harness";

const UNKNOWN = "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10";

async function create(apiKey: string, body: unknown, headers?: Record<string, string>) {
  return call("POST", "/v1/api-keys", { apiKey, body, headers });
}

describe("/v1/api-keys", () => {
  it("creates a key whose secret is shown once and works with exactly its scopes", async () => {
    const t = await newTenant();
    const res = await create(t.apiKey, { name: "reader", scopes: ["batches:read"] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: "api_key", name: "reader", scopes: ["batches:read"], mode: "live", lastUsedAt: null, expiresAt: null, revokedAt: null });
    expect(res.body.secret).toMatch(/^bs_live_[A-Za-z0-9_-]{43}$/);
    expect(res.body.secret.startsWith(res.body.prefix)).toBe(true);
    const [row] = await query<{ key_hash: string; tenant_id: string }>("select key_hash, tenant_id from api_keys where id = $1", [res.body.id]);
    expect(row!.tenant_id).toBe(t.tenantId);
    expect(row!.key_hash).not.toContain(res.body.secret);

    expect((await call("GET", "/v1/batches", { apiKey: res.body.secret })).status).toBe(200);
    expect((await call("POST", "/v1/batches", { apiKey: res.body.secret, body: {} })).body).toMatchObject({ status: 403, scope: "batches:write" });

    const got = await call("GET", `/v1/api-keys/${res.body.id}`, { apiKey: t.apiKey });
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(got.body.id).toBe(res.body.id);
    let lastUsed: string | null = null;
    for (let i = 0; i < 50 && !lastUsed; i++) {
      lastUsed = (await call("GET", `/v1/api-keys/${res.body.id}`, { apiKey: t.apiKey })).body.lastUsedAt;
      if (!lastUsed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(lastUsed).not.toBeNull();
  });

  it("lists the tenant's keys newest first with a cursor, without secrets or hashes", async () => {
    const t = await newTenant();
    const a = (await create(t.apiKey, { name: "a", scopes: ["batches:read"] })).body;
    const b = (await create(t.apiKey, { name: "b", scopes: ["suppressions:write", "batches:write"], mode: "test" })).body;
    const page1 = await call("GET", "/v1/api-keys?limit=2", { apiKey: t.apiKey });
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((k: { id: string }) => k.id)).toEqual([b.id, a.id]);
    expect(page1.body.hasMore).toBe(true);
    expect(JSON.stringify(page1.body)).not.toMatch(/secret|hash|bs_(live|test)_[A-Za-z0-9_-]{20}/);
    const page2 = await call("GET", `/v1/api-keys?limit=2&starting_after=${page1.body.nextCursor}`, { apiKey: t.apiKey });
    expect(page2.body.data.map((k: { id: string }) => k.id)).toEqual([t.apiKeyId]);
    expect(page2.body).toMatchObject({ hasMore: false, nextCursor: null });
    expect(page2.body.data[0]).toMatchObject({ name: "worker test", scopes: ["admin"], mode: "live" });
    expect((await call("GET", `/v1/api-keys?starting_after=${UNKNOWN}`, { apiKey: t.apiKey })).status).toBe(404);
  });

  it("revoke: the key stops working at once; revoking again changes nothing", async () => {
    const t = await newTenant();
    const k = (await create(t.apiKey, { name: "temp", scopes: ["batches:read"] })).body;
    const revoked = await call("DELETE", `/v1/api-keys/${k.id}`, { apiKey: t.apiKey });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await call("GET", "/v1/batches", { apiKey: k.secret })).status).toBe(401);
    const again = await call("DELETE", `/v1/api-keys/${k.id}`, { apiKey: t.apiKey });
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    const [audit] = await query<{ n: number }>("select count(*)::int as n from audit_log where target_id = $1 and action = 'api_key.revoked'", [k.id]);
    expect(audit!.n).toBe(1);
    // A key can revoke itself.
    const self = await newKey(t.tenantId);
    expect((await call("DELETE", `/v1/api-keys/${self.apiKeyId}`, { apiKey: self.apiKey })).status).toBe(200);
    expect((await call("GET", "/v1/api-keys", { apiKey: self.apiKey })).status).toBe(401);
  });

  it("expiry: shown on the key; past its expiry the key is refused", async () => {
    const t = await newTenant();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const k = (await create(t.apiKey, { name: "day", scopes: ["batches:read"], expiresAt })).body;
    expect(k.expiresAt).toBe(expiresAt);
    expect((await call("GET", "/v1/batches", { apiKey: k.secret })).status).toBe(200);
    await query("update api_keys set expires_at = now() - interval '1 second' where id = $1", [k.id]);
    expect((await call("GET", "/v1/batches", { apiKey: k.secret })).status).toBe(401);
  });

  it("each validation error is a 422 naming the field; bad JSON 400, wrong media type 415", async () => {
    const t = await newTenant();
    const cases: [unknown, string][] = [
      [{ scopes: ["batches:read"] }, "name"],
      [{ name: "", scopes: ["batches:read"] }, "name"],
      [{ name: "   ", scopes: ["batches:read"] }, "name"],
      [{ name: "x".repeat(101), scopes: ["batches:read"] }, "name"],
      [{ name: "x" }, "scopes"],
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["batches:delete"] }, "scopes.0"],
      [{ name: "x", scopes: ["admin", "admin"] }, "scopes"],
      [{ name: "x", scopes: "admin" }, "scopes"],
      [{ name: "x", scopes: ["admin"], mode: "prod" }, "mode"],
      [{ name: "x", scopes: ["admin"], expiresAt: "tomorrow" }, "expiresAt"],
      [{ name: "x", scopes: ["admin"], expiresAt: "2020-01-01T00:00:00Z" }, "expiresAt"],
    ];
    for (const [body, path] of cases) {
      const res = await create(t.apiKey, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect((await create(t.apiKey, "{nope")).status).toBe(400);
    expect((await call("POST", "/v1/api-keys", { apiKey: t.apiKey, body: "name=x", headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await call("GET", "/v1/api-keys?limit=0", { apiKey: t.apiKey })).status).toBe(422);
    expect((await call("PUT", `/v1/api-keys/${t.apiKeyId}`, { apiKey: t.apiKey })).status).toBe(405);
    const [{ n }] = (await query<{ n: number }>("select count(*)::int as n from api_keys where tenant_id = $1", [t.tenantId])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("tenant isolation: another tenant's key is a 404 and never listed", async () => {
    const a = await newTenant();
    const b = await newTenant();
    for (const id of [a.apiKeyId, UNKNOWN, "not-a-uuid"]) {
      expect((await call("GET", `/v1/api-keys/${id}`, { apiKey: b.apiKey })).status).toBe(404);
      expect((await call("DELETE", `/v1/api-keys/${id}`, { apiKey: b.apiKey })).status).toBe(404);
    }
    expect((await call("GET", `/v1/api-keys?starting_after=${a.apiKeyId}`, { apiKey: b.apiKey })).status).toBe(404);
    const list = await call("GET", "/v1/api-keys", { apiKey: b.apiKey });
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([b.apiKeyId]);
    const [row] = await query<{ revoked_at: unknown }>("select revoked_at from api_keys where id = $1", [a.apiKeyId]);
    expect(row!.revoked_at).toBeNull();
  });

  it("test/live: a test key sees and creates only test keys; a live key manages both", async () => {
    const t = await newTenant();
    const testAdmin = await newKey(t.tenantId, { mode: "test" });
    const made = await create(testAdmin.apiKey, { name: "t", scopes: ["batches:read"] });
    expect(made.status).toBe(201);
    expect(made.body.mode).toBe("test");
    expect(made.body.secret).toMatch(/^bs_test_/);
    const live = await create(testAdmin.apiKey, { name: "escalate", scopes: ["admin"], mode: "live" });
    expect(live.status).toBe(403);
    expect(live.body.code).toBe("forbidden");

    const testList = await call("GET", "/v1/api-keys", { apiKey: testAdmin.apiKey });
    expect(testList.body.data.map((k: { id: string }) => k.id).sort()).toEqual([made.body.id, testAdmin.apiKeyId].sort());
    expect((await call("GET", `/v1/api-keys/${t.apiKeyId}`, { apiKey: testAdmin.apiKey })).status).toBe(404);
    expect((await call("DELETE", `/v1/api-keys/${t.apiKeyId}`, { apiKey: testAdmin.apiKey })).status).toBe(404);

    const liveList = await call("GET", "/v1/api-keys", { apiKey: t.apiKey });
    expect(liveList.body.data).toHaveLength(3);
    expect((await call("DELETE", `/v1/api-keys/${made.body.id}`, { apiKey: t.apiKey })).status).toBe(200);
    const liveMadeTest = await create(t.apiKey, { name: "for ci", scopes: ["batches:write"], mode: "test" });
    expect(liveMadeTest.body.mode).toBe("test");
  });

  it("Idempotency-Key: the replay answers the same key with secret null; the secret is stored nowhere", async () => {
    const t = await newTenant();
    const body = { name: "once", scopes: ["batches:read"] };
    const first = await create(t.apiKey, body, { "idempotency-key": "key-create-1" });
    expect(first.status).toBe(201);
    const replay = await create(t.apiKey, body, { "idempotency-key": "key-create-1" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual({ ...first.body, secret: null });
    const [stored] = await query<{ response_body: string }>("select response_body from idempotency_keys where tenant_id = $1 and key = $2", [
      t.tenantId,
      "key-create-1",
    ]);
    expect(stored!.response_body).not.toContain(first.body.secret);
    const [{ n }] = (await query<{ n: number }>("select count(*)::int as n from api_keys where tenant_id = $1", [t.tenantId])) as [{ n: number }];
    expect(n).toBe(2);
  });
});
