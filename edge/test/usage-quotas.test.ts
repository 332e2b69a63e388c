// Issue 8: per-tenant quotas (active batches, pending recipients, sends per day) refuse with a 429 problem
// naming the quota, its limit and when it resets; GET /v1/usage shows use against each.
import { describe, expect, it } from "vitest";
import { DEFAULT_QUOTAS } from "../../core/domain/quotas";
import { call, emailBatch, newKey, newTenant, query, type ApiResponse } from "./harness";

async function setQuota(tenantId: string, quotas: { active_batches?: number; pending_recipients?: number; sends_per_day?: number }) {
  await query(
    `insert into tenant_quotas (tenant_id, active_batches, pending_recipients, sends_per_day)
     values ($1, coalesce($2, ${DEFAULT_QUOTAS.active_batches}), coalesce($3, ${DEFAULT_QUOTAS.pending_recipients}), coalesce($4, ${DEFAULT_QUOTAS.sends_per_day}))`,
    [tenantId, quotas.active_batches ?? null, quotas.pending_recipients ?? null, quotas.sends_per_day ?? null],
  );
}

function nextUtcMidnightIso(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString().replace(".000Z", "Z");
}

function expectQuota429(res: ApiResponse, quota: string, limit: number, used: number) {
  expect(res.status).toBe(429);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(res.body).toMatchObject({ status: 429, code: "quota_exceeded", quota, limit, used });
  expect(res.body.detail).toContain(quota);
  expect(res.body.detail).toContain(String(limit));
}

const recipients = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `r${from + i}@example.com`);

describe("quotas and GET /v1/usage", () => {
  it("a new tenant has the default plan and no use", async () => {
    const t = await newTenant();
    const res = await call("GET", "/v1/usage", { apiKey: t.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      object: "usage",
      quotas: {
        active_batches: { limit: DEFAULT_QUOTAS.active_batches, used: 0, resetsAt: null },
        pending_recipients: { limit: DEFAULT_QUOTAS.pending_recipients, used: 0, resetsAt: null },
        sends_per_day: { limit: DEFAULT_QUOTAS.sends_per_day, used: 0, resetsAt: nextUtcMidnightIso() },
      },
    });
  });

  it("active_batches: the batch past the limit is a 429 and is not created; a cancelled batch frees its place", async () => {
    const t = await newTenant();
    await setQuota(t.tenantId, { active_batches: 2 });
    const first = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() });
    expect((await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() })).status).toBe(201);
    const refused = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() });
    expectQuota429(refused, "active_batches", 2, 2);
    expect(refused.body.resetsAt).toBeNull();
    expect(refused.headers.get("retry-after")).toBeNull();
    const [{ n }] = (await query<{ n: number }>("select count(*)::int as n from batches where tenant_id = $1", [t.tenantId])) as [{ n: number }];
    expect(n).toBe(2);
    expect((await call("GET", "/v1/usage", { apiKey: t.apiKey })).body.quotas.active_batches).toEqual({ limit: 2, used: 2, resetsAt: null });

    expect((await call("POST", `/v1/batches/${first.body.id}/cancel`, { apiKey: t.apiKey })).status).toBe(200);
    expect((await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() })).status).toBe(201);
  });

  it("pending_recipients: create and append past the limit are refused and add nothing; duplicates and suppressed do not count", async () => {
    const t = await newTenant();
    await setQuota(t.tenantId, { pending_recipients: 5 });
    await query("insert into suppressions (tenant_id, channel, address, reason, source) values ($1, 'email', 'r9@example.com', 'manual', 'test')", [t.tenantId]);
    const created = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({}, [...recipients(3), "r0@example.com", "r9@example.com"]) });
    expect(created.status).toBe(201);
    expect((await call("GET", "/v1/usage", { apiKey: t.apiKey })).body.quotas.pending_recipients.used).toBe(3);

    const append = (to: string[]) =>
      call("POST", `/v1/batches/${created.body.id}/recipients`, { apiKey: t.apiKey, body: { recipients: to.map((a) => ({ to: a })) } });
    expectQuota429(await append(recipients(3, 3)), "pending_recipients", 5, 3);
    expect((await call("GET", `/v1/batches/${created.body.id}`, { apiKey: t.apiKey })).body.counts.total).toBe(4);
    expect((await append(recipients(2, 3))).status).toBe(200);
    expectQuota429(await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({}, recipients(1, 50)) }), "pending_recipients", 5, 5);
  });

  it("sends_per_day: the send past the day's limit is a 429 with Retry-After until 00:00 UTC; the batch stays a draft", async () => {
    const t = await newTenant();
    await setQuota(t.tenantId, { sends_per_day: 3 });
    const a = (await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({}, recipients(2)) })).body;
    const b = (await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({}, recipients(2, 10)) })).body;
    expect((await call("POST", `/v1/batches/${a.id}/send`, { apiKey: t.apiKey })).status).toBe(202);
    const refused = await call("POST", `/v1/batches/${b.id}/send`, { apiKey: t.apiKey });
    expectQuota429(refused, "sends_per_day", 3, 2);
    expect(refused.body.resetsAt).toBe(nextUtcMidnightIso());
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect((await call("GET", `/v1/batches/${b.id}`, { apiKey: t.apiKey })).body.status).toBe("draft");
    const usage = (await call("GET", "/v1/usage", { apiKey: t.apiKey })).body.quotas;
    expect(usage.sends_per_day).toEqual({ limit: 3, used: 2, resetsAt: nextUtcMidnightIso() });

    // Dry runs send nothing and reserve nothing.
    const dry = (await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true }, recipients(5, 20)) })).body;
    expect((await call("POST", `/v1/batches/${dry.id}/send`, { apiKey: t.apiKey })).status).toBe(202);
  });

  it("tenant isolation and test/live: one tenant's use is not another's; test keys see the tenant's numbers and reserve no sends", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const testKey = (await newKey(a.tenantId, { mode: "test" })).apiKey;
    await setQuota(a.tenantId, { sends_per_day: 1 });
    const batch = (await call("POST", "/v1/batches", { apiKey: testKey, body: emailBatch({}, recipients(3)) })).body;
    const aUsage = (await call("GET", "/v1/usage", { apiKey: testKey })).body.quotas;
    expect(aUsage.active_batches.used).toBe(1);
    expect(aUsage.pending_recipients.used).toBe(3);
    expect((await call("GET", "/v1/usage", { apiKey: a.apiKey })).body.quotas).toEqual(aUsage);
    expect((await call("POST", `/v1/batches/${batch.id}/send`, { apiKey: testKey })).status).toBe(202);
    expect((await call("GET", "/v1/usage", { apiKey: testKey })).body.quotas.sends_per_day).toMatchObject({ limit: 1, used: 0 });
    const bUsage = (await call("GET", "/v1/usage", { apiKey: b.apiKey })).body.quotas;
    expect(bUsage.active_batches.used).toBe(0);
    expect(bUsage.sends_per_day.limit).toBe(DEFAULT_QUOTAS.sends_per_day);
  });

  it("usage needs batches:read; other methods are 405", async () => {
    const t = await newTenant();
    const writer = (await newKey(t.tenantId, { scopes: ["batches:write"] })).apiKey;
    const reader = (await newKey(t.tenantId, { scopes: ["batches:read"] })).apiKey;
    expect((await call("GET", "/v1/usage", { apiKey: writer })).body).toMatchObject({ status: 403, scope: "batches:read" });
    expect((await call("GET", "/v1/usage", { apiKey: reader })).status).toBe(200);
    expect((await call("POST", "/v1/usage", { apiKey: t.apiKey })).status).toBe(405);
  });
});
