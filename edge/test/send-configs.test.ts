// Issue 8, send configs: CRUD, per-provider validation, BYOK credentials sealed (bound to tenant, config and
// provider) and masked on every read, rotation under the same id, one default per channel, 409 on delete
// while an unfinished batch uses the config.
import { describe, expect, it } from "vitest";
import { importSealingKey, openSecret } from "../../core/domain/crypto";
import { addApiKey, call, emailBatch, newTenant, query, testEnv } from "./harness";

const byokSes = { accessKeyId: "AKIABYOKCUSTOMER0001", secretAccessKey: "customer/secret/key/abcdefghijklmnop", region: "us-east-1" };
const sesConfig = (over: Record<string, unknown> = {}) => ({
  name: "Our SES",
  channel: "email",
  mode: "byok",
  provider: "ses",
  defaults: { from: "Shop <shop@test.batchsender.dev>" },
  rateLimitPerSecond: 14,
  credentials: byokSes,
  ...over,
});

async function storedRow(id: string) {
  const [row] = await query<{ tenant_id: string; credentials_ciphertext: string; credentials_key_id: string; provider: string; updated_at: Date }>(
    "select tenant_id, credentials_ciphertext, credentials_key_id, provider::text as provider, updated_at from send_configs where id = $1",
    [id],
  );
  return row!;
}

async function openStored(ciphertext: string, keyId: string, binding: { tenantId: string; configId: string; provider: string }) {
  const keys = JSON.parse(testEnv.ENCRYPTION_KEYS as string) as Record<string, string>;
  return openSecret(ciphertext, await importSealingKey(keys[keyId]!), keyId, binding);
}

describe("POST /v1/send-configs", () => {
  it("creates a BYOK SES config: credentials sealed in Postgres, masked in every answer", async () => {
    const t = await newTenant();
    const res = await call("POST", "/v1/send-configs", { apiKey: t.apiKey, body: sesConfig() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ object: "send_config", channel: "email", mode: "byok", provider: "ses", rateLimitPerSecond: 14, isDefault: false });
    expect(res.body.credentials).toEqual({ accessKeyId: "••••0001", secretAccessKey: "••••mnop", region: "us-east-1" });
    for (const r of [res, await call("GET", `/v1/send-configs/${res.body.id}`, { apiKey: t.apiKey }), await call("GET", "/v1/send-configs", { apiKey: t.apiKey })]) {
      expect(JSON.stringify(r.body)).not.toContain(byokSes.secretAccessKey);
      expect(JSON.stringify(r.body)).not.toContain(byokSes.accessKeyId);
    }
    const row = await storedRow(res.body.id);
    expect(row.credentials_ciphertext).not.toContain("customer");
    expect(JSON.parse(await openStored(row.credentials_ciphertext, row.credentials_key_id, { tenantId: t.tenantId, configId: res.body.id, provider: "ses" }))).toEqual(byokSes);
  });

  it("the ciphertext copied to another tenant's config does not open there", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const mine = (await call("POST", "/v1/send-configs", { apiKey: a.apiKey, body: sesConfig() })).body;
    const theirs = (await call("POST", "/v1/send-configs", { apiKey: b.apiKey, body: sesConfig({ credentials: { ...byokSes, secretAccessKey: "other/secret/key/zzzzzzzzzzzz" } }) })).body;
    const row = await storedRow(mine.id);
    await query("update send_configs set credentials_ciphertext = $1, credentials_key_id = $2 where id = $3", [row.credentials_ciphertext, row.credentials_key_id, theirs.id]);
    await expect(openStored(row.credentials_ciphertext, row.credentials_key_id, { tenantId: b.tenantId, configId: theirs.id, provider: "ses" })).rejects.toThrow("did not authenticate");
  });

  it("creates managed configs per channel, and keeps one default per channel", async () => {
    const t = await newTenant();
    const first = t.sendConfigId;
    const managed = await call("POST", "/v1/send-configs", { apiKey: t.apiKey, body: { name: "Resend", channel: "email", mode: "managed", provider: "resend", defaults: { from: "A <a@test.batchsender.dev>" }, isDefault: true } });
    expect(managed.status, JSON.stringify(managed.body)).toBe(201);
    expect(managed.body.credentials).toBeNull();
    expect((await call("GET", `/v1/send-configs/${first}`, { apiKey: t.apiKey })).body.isDefault).toBe(false);
    const sms = await call("POST", "/v1/send-configs", { apiKey: t.apiKey, body: { name: "SMS", channel: "sms", mode: "managed", provider: "telnyx", defaults: { fromNumber: "+12125550100" }, isDefault: true } });
    expect(sms.status).toBe(201);
    const list = (await call("GET", "/v1/send-configs?limit=100", { apiKey: t.apiKey })).body.data as { id: string; channel: string; isDefault: boolean }[];
    expect(list.filter((c) => c.isDefault).map((c) => [c.channel, c.id]).sort()).toEqual([["email", managed.body.id], ["sms", sms.body.id]].sort());
    await call("PATCH", `/v1/send-configs/${first}`, { apiKey: t.apiKey, body: { isDefault: true } });
    expect((await call("GET", `/v1/send-configs/${managed.body.id}`, { apiKey: t.apiKey })).body.isDefault).toBe(false);
    const emailOnly = (await call("GET", "/v1/send-configs?channel=sms", { apiKey: t.apiKey })).body.data;
    expect(emailOnly.map((c: { id: string }) => c.id)).toEqual([sms.body.id]);
  });

  it.each([
    [sesConfig({ credentials: { ...byokSes, region: "EU-CENTRAL-1" } }), "credentials.region"],
    [sesConfig({ credentials: { ...byokSes, region: "evil.com/x" } }), "credentials.region"],
    [sesConfig({ credentials: { accessKeyId: "x" } }), "credentials.secretAccessKey"],
    [sesConfig({ credentials: { ...byokSes, extra: "1" } }), "credentials"],
    [sesConfig({ credentials: undefined }), "credentials"],
    [sesConfig({ provider: "telnyx" }), "provider"],
    [sesConfig({ mode: "managed" }), "credentials"],
    [sesConfig({ mode: "managed", credentials: undefined }), "rateLimitPerSecond"],
    [sesConfig({ defaults: { from: "not an address" } }), "defaults.from"],
    [sesConfig({ defaults: { fromNumber: "+12125550100" } }), "defaults.fromNumber"],
    [sesConfig({ rateLimitPerSecond: 0 }), "rateLimitPerSecond"],
    [sesConfig({ channel: "fax" }), "channel"],
    [{ name: "T", channel: "sms", mode: "byok", provider: "telnyx", credentials: { apiKey: "KEY1", messagingProfileId: "not-a-uuid" } }, "credentials.messagingProfileId"],
    [{ name: "T", channel: "sms", mode: "managed", provider: "telnyx", defaults: { messagingProfileId: "123" } }, "defaults.messagingProfileId"],
    [{ name: "T", channel: "sms", mode: "managed", provider: "telnyx", defaults: { fromNumber: "12345678901234" } }, "defaults.fromNumber"],
    [{ name: "W", channel: "webhook", mode: "byok", provider: "webhook" }, "mode"],
    [{ channel: "email", mode: "managed", provider: "ses" }, "name"],
  ])("422s %j naming %s", async (body, path) => {
    const t = await newTenant();
    const res = await call("POST", "/v1/send-configs", { apiKey: t.apiKey, body });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it("accepts a valid BYOK Telnyx and Resend config", async () => {
    const t = await newTenant();
    const telnyx = { name: "T", channel: "sms", mode: "byok", provider: "telnyx", credentials: { apiKey: "KEYCUSTOMER0001", messagingProfileId: "40017a5e-1111-4000-8000-000000000001" } };
    expect((await call("POST", "/v1/send-configs", { apiKey: t.apiKey, body: telnyx })).status).toBe(201);
    const resend = { name: "R", channel: "email", mode: "byok", provider: "resend", credentials: { apiKey: "re_customer_key_12345678" } };
    expect((await call("POST", "/v1/send-configs", { apiKey: t.apiKey, body: resend })).body.credentials).toEqual({ apiKey: "••••5678" });
  });
});

describe("PATCH, DELETE and isolation", () => {
  it("rotating credentials keeps the id, reseals and bumps updated_at; other fields stay", async () => {
    const t = await newTenant();
    const created = (await call("POST", "/v1/send-configs", { apiKey: t.apiKey, body: sesConfig() })).body;
    const before = await storedRow(created.id);
    const rotated = { ...byokSes, accessKeyId: "AKIABYOKCUSTOMER0002", secretAccessKey: "rotated/secret/key/qrstuvwxyz" };
    const res = await call("PATCH", `/v1/send-configs/${created.id}`, { apiKey: t.apiKey, body: { credentials: rotated } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: created.id, name: "Our SES", rateLimitPerSecond: 14, credentials: { accessKeyId: "••••0002", secretAccessKey: "••••wxyz", region: "us-east-1" } });
    const after = await storedRow(created.id);
    expect(after.credentials_ciphertext).not.toBe(before.credentials_ciphertext);
    expect(new Date(after.updated_at).getTime()).toBeGreaterThan(new Date(before.updated_at).getTime());
    expect(JSON.parse(await openStored(after.credentials_ciphertext, after.credentials_key_id, { tenantId: t.tenantId, configId: created.id, provider: "ses" }))).toEqual(rotated);
    const bad = await call("PATCH", `/v1/send-configs/${created.id}`, { apiKey: t.apiKey, body: { credentials: { accessKeyId: "x" } } });
    expect(bad.status).toBe(422);
    expect((await call("PATCH", `/v1/send-configs/${created.id}`, { apiKey: t.apiKey, body: { channel: "sms" } })).status).toBe(422);
  });

  it("delete is 409 while an unfinished batch uses the config, 204 after; a deleted config is gone for batches too", async () => {
    const t = await newTenant();
    const draft = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() });
    expect(draft.status).toBe(201);
    const blocked = await call("DELETE", `/v1/send-configs/${t.sendConfigId}`, { apiKey: t.apiKey });
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toContain("1 unfinished batch");
    await call("POST", `/v1/batches/${draft.body.id}/cancel`, { apiKey: t.apiKey });
    expect((await call("DELETE", `/v1/send-configs/${t.sendConfigId}`, { apiKey: t.apiKey })).status).toBe(204);
    expect((await call("GET", `/v1/send-configs/${t.sendConfigId}`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ sendConfigId: t.sendConfigId }) })).status).toBe(404);
    expect((await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() })).status).toBe(422); // no default any more
    expect((await call("GET", `/v1/batches/${draft.body.id}`, { apiKey: t.apiKey })).status).toBe(200);
  });

  it("another tenant's config and malformed ids are 404 on every route; both key modes see the tenant's configs", async () => {
    const a = await newTenant();
    const b = await newTenant();
    for (const [method, body] of [["GET"], ["PATCH", { name: "x" }], ["DELETE"]] as const) {
      expect((await call(method, `/v1/send-configs/${a.sendConfigId}`, { apiKey: b.apiKey, body })).status, method).toBe(404);
      expect((await call(method, "/v1/send-configs/nope", { apiKey: a.apiKey, body })).status, method).toBe(404);
    }
    expect((await call("GET", "/v1/send-configs", { apiKey: b.apiKey })).body.data.map((c: { id: string }) => c.id)).not.toContain(a.sendConfigId);
    const testKey = await addApiKey(a.tenantId, "test");
    expect((await call("GET", `/v1/send-configs/${a.sendConfigId}`, { apiKey: testKey })).status).toBe(200);
    expect((await call("PUT", `/v1/send-configs/${a.sendConfigId}`, { apiKey: a.apiKey })).status).toBe(405);
    expect((await call("GET", "/v1/send-configs", {})).status).toBe(401);
  });
});
