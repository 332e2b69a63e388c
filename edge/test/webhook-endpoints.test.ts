// Issue 8 item 5: /v1/webhook-endpoints — CRUD, event filters, a Standard Webhooks secret shown once and
// sealed at rest, rotation with an overlap window, enable/disable, SSRF rules at creation.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { importSealingKey, openSecret } from "../../core/domain/crypto";
import { addApiKey, call, newTenant, query, testEnv } from "./harness";

const create = (apiKey: string, body: Record<string, unknown> = {}, envOverrides?: Record<string, string>) =>
  call("POST", "/v1/webhook-endpoints", { apiKey, body: { url: "https://hooks.example.com/in", ...body }, envOverrides });

interface SecretRow {
  id: string;
  tenant_id: string;
  secret_ciphertext: string;
  secret_key_id: string;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
}

async function sealedRow(id: string): Promise<SecretRow> {
  const [row] = await query<SecretRow>(
    "select id, tenant_id, secret_ciphertext, secret_key_id, previous_secret_ciphertext, previous_secret_expires_at from webhook_endpoints where id = $1",
    [id],
  );
  return row!;
}

async function openAs(ciphertext: string, keyId: string, tenantId: string, endpointId: string): Promise<string> {
  const keys = JSON.parse(testEnv.ENCRYPTION_KEYS as string) as Record<string, string>;
  return openSecret(ciphertext, await importSealingKey(keys[keyId]!), keyId, { tenantId, configId: endpointId, provider: "webhook-endpoint" });
}

describe("webhook endpoints: create and read", () => {
  it("creates with a whsec_ secret shown once, sealed at rest and bound to the row", async () => {
    const t = await newTenant();
    const res = await create(t.apiKey, { description: "CRM", eventTypes: ["recipient.bounced", "recipient.complained", "recipient.bounced"] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: "webhook_endpoint",
      url: "https://hooks.example.com/in",
      description: "CRM",
      eventTypes: ["recipient.bounced", "recipient.complained"],
      enabled: true,
      disabledReason: null,
      previousSecretExpiresAt: null,
    });
    const secret: string = res.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(6))).toHaveLength(32);

    // The library the receivers use accepts it.
    const wh = new Webhook(secret);
    const ts = new Date();
    const sig = wh.sign("msg_1", ts, '{"type":"recipient.bounced"}');
    expect(wh.verify('{"type":"recipient.bounced"}', { "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)), "webhook-signature": sig })).toEqual({ type: "recipient.bounced" });

    const read = await call("GET", `/v1/webhook-endpoints/${res.body.id}`, { apiKey: t.apiKey });
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    const { secret: _s, ...view } = res.body;
    expect(read.body).toEqual(view);

    const row = await sealedRow(res.body.id);
    expect(row.secret_ciphertext).not.toContain(secret.slice(6, 20));
    expect(await openAs(row.secret_ciphertext, row.secret_key_id, t.tenantId, row.id)).toBe(secret);
    // Copied to another tenant's endpoint, the ciphertext does not open.
    const other = await newTenant();
    const theirs = await create(other.apiKey);
    await expect(openAs(row.secret_ciphertext, row.secret_key_id, other.tenantId, theirs.body.id)).rejects.toThrow(/authenticate/);
  });

  it("refuses URLs the SSRF rules forbid, and bad fields, with field errors", async () => {
    const t = await newTenant();
    const cases: [Record<string, unknown>, string][] = [
      [{ url: "http://hooks.example.com/in" }, "url"],
      [{ url: "not a url" }, "url"],
      [{ url: "ftp://hooks.example.com/" }, "url"],
      [{ url: "https://10.0.0.7/in" }, "url"],
      [{ url: "https://169.254.169.254/latest/meta-data" }, "url"],
      [{ url: "https://[::1]/in" }, "url"],
      [{ url: "https://localhost/in" }, "url"],
      [{ url: "https://metadata.internal/in" }, "url"],
      [{ url: "https://hooks.example.com:6379/in" }, "url"],
      [{ url: "https://user:pw@hooks.example.com/in" }, "url"],
      [{ url: "https://hooks.example.com/in#frag" }, "url"],
      [{ url: "" }, "url"],
      [{ eventTypes: ["recipient.exploded"] }, "eventTypes.0"],
      [{ eventTypes: "recipient.sent" }, "eventTypes"],
      [{ description: "x".repeat(501) }, "description"],
      [{ enabled: "yes" }, "enabled"],
      [{ secret: "whsec_mine" }, ""],
    ];
    for (const [body, path] of cases) {
      const res = await create(t.apiKey, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect((await call("POST", "/v1/webhook-endpoints", { apiKey: t.apiKey, body: "{" })).status).toBe(400);
    expect((await call("POST", "/v1/webhook-endpoints", { apiKey: t.apiKey, body: "url=x", headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await call("GET", "/v1/webhook-endpoints")).status).toBe(401);
  });

  it("allows a private host only when the configured allow-list names it (local stack: 127.0.0.1)", async () => {
    const t = await newTenant();
    const local = await create(t.apiKey, { url: "http://127.0.0.1:9999/hooks" });
    expect(local.status).toBe(201);
    const production = await create(t.apiKey, { url: "http://127.0.0.1:9999/hooks" }, { WEBHOOK_ALLOWED_HOSTS: "" });
    expect(production.status).toBe(422);
    expect(production.body.errors[0]).toMatchObject({ path: "url" });
    expect((await create(t.apiKey, { url: "https://127.0.0.1/hooks" }, { WEBHOOK_ALLOWED_HOSTS: "" })).status).toBe(422);
  });

  it("lists newest first by cursor and caps endpoints per account at 20", async () => {
    const t = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await create(t.apiKey, { description: `e${i}` })).body.id);
    const over = await create(t.apiKey);
    expect(over.status).toBe(409);
    const first = await call("GET", "/v1/webhook-endpoints?limit=15", { apiKey: t.apiKey });
    expect(first.body.hasMore).toBe(true);
    const second = await call("GET", `/v1/webhook-endpoints?limit=15&starting_after=${first.body.nextCursor}`, { apiKey: t.apiKey });
    expect(second.body).toMatchObject({ hasMore: false, nextCursor: null });
    expect([...first.body.data, ...second.body.data].map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
    for (const e of first.body.data) expect(e.secret).toBeUndefined();
    expect((await call("GET", "/v1/webhook-endpoints?limit=0", { apiKey: t.apiKey })).status).toBe(422);
    expect((await call("GET", "/v1/webhook-endpoints?starting_after=nope", { apiKey: t.apiKey })).status).toBe(404);
  });
});

describe("webhook endpoints: change, rotate, delete", () => {
  it("updates the URL and filter, disables and re-enables (resetting the failure count)", async () => {
    const t = await newTenant();
    const ep = (await create(t.apiKey)).body;
    const patched = await call("PATCH", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey, body: { url: "https://other.example.com/x", eventTypes: ["batch.completed"], description: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: "https://other.example.com/x", eventTypes: ["batch.completed"], description: null, enabled: true });

    const off = await call("PATCH", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey, body: { enabled: false } });
    expect(off.body).toMatchObject({ enabled: false, disabledReason: "manual" });
    expect(off.body.disabledAt).toEqual(expect.any(String));

    await query("update webhook_endpoints set disabled_reason = 'failing', consecutive_failures = 9 where id = $1", [ep.id]);
    expect((await call("GET", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey })).body.disabledReason).toBe("failing");
    const on = await call("PATCH", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey, body: { enabled: true } });
    expect(on.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
    const [row] = await query<{ consecutive_failures: number }>("select consecutive_failures from webhook_endpoints where id = $1", [ep.id]);
    expect(row!.consecutive_failures).toBe(0);

    for (const [body, path] of [
      [{}, ""],
      [{ url: "https://192.168.1.1/x" }, "url"],
      [{ eventTypes: ["nope"] }, "eventTypes.0"],
      [{ secret: "x" }, ""],
    ] as const) {
      const res = await call("PATCH", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });

  it("rotates the secret: shown once, the old one kept signing for the overlap (default 24 h), or dropped", async () => {
    const t = await newTenant();
    const ep = (await create(t.apiKey)).body;
    const before = await sealedRow(ep.id);
    const rotated = await call("POST", `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { apiKey: t.apiKey });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);
    const expires = Date.parse(rotated.body.previousSecretExpiresAt);
    expect(Math.abs(expires - Date.now() - 24 * 3600_000)).toBeLessThan(10 * 60_000);
    const after = await sealedRow(ep.id);
    expect(after.previous_secret_ciphertext).toBe(before.secret_ciphertext);
    expect(await openAs(after.secret_ciphertext, after.secret_key_id, t.tenantId, ep.id)).toBe(rotated.body.secret);
    expect(await openAs(after.previous_secret_ciphertext!, after.secret_key_id, t.tenantId, ep.id)).toBe(ep.secret);
    expect((await call("GET", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey })).body.previousSecretExpiresAt).toBe(rotated.body.previousSecretExpiresAt);

    const short = await call("POST", `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { apiKey: t.apiKey, body: { overlapSeconds: 3600 } });
    expect(Math.abs(Date.parse(short.body.previousSecretExpiresAt) - Date.now() - 3600_000)).toBeLessThan(10 * 60_000);
    // The second rotation demoted the first rotation's secret; the original one no longer signs.
    expect(await openAs((await sealedRow(ep.id)).previous_secret_ciphertext!, after.secret_key_id, t.tenantId, ep.id)).toBe(rotated.body.secret);

    const now = await call("POST", `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { apiKey: t.apiKey, body: { overlapSeconds: 0 } });
    expect(now.body.previousSecretExpiresAt).toBeNull();
    expect((await sealedRow(ep.id)).previous_secret_ciphertext).toBeNull();

    for (const body of [{ overlapSeconds: -1 }, { overlapSeconds: 8 * 24 * 3600 }, { overlapSeconds: 1.5 }, { other: 1 }]) {
      expect((await call("POST", `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { apiKey: t.apiKey, body })).status, JSON.stringify(body)).toBe(422);
    }
    expect((await call("GET", `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { apiKey: t.apiKey })).status).toBe(405);
  });

  it("deletes", async () => {
    const t = await newTenant();
    const ep = (await create(t.apiKey)).body;
    const del = await call("DELETE", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ object: "webhook_endpoint", id: ep.id, deleted: true });
    expect((await call("GET", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("DELETE", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("PUT", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey })).status).toBe(405);
  });
});

describe("webhook endpoints: isolation", () => {
  it("another tenant's endpoint, the other mode's, and malformed ids are 404 on every route", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const testKeyOfA = await addApiKey(a.tenantId, "test");
    const ep = (await create(a.apiKey)).body;
    const testEp = (await create(testKeyOfA)).body;
    for (const [key, id] of [
      [b.apiKey, ep.id],
      [testKeyOfA, ep.id],
      [a.apiKey, testEp.id],
      [a.apiKey, "not-a-uuid"],
    ] as const) {
      expect((await call("GET", `/v1/webhook-endpoints/${id}`, { apiKey: key })).status).toBe(404);
      expect((await call("PATCH", `/v1/webhook-endpoints/${id}`, { apiKey: key, body: { enabled: false } })).status).toBe(404);
      expect((await call("POST", `/v1/webhook-endpoints/${id}/rotate-secret`, { apiKey: key })).status).toBe(404);
      expect((await call("DELETE", `/v1/webhook-endpoints/${id}`, { apiKey: key })).status).toBe(404);
      expect((await call("GET", `/v1/webhook-endpoints?starting_after=${id}`, { apiKey: key })).status).toBe(404);
    }
    const ids = async (key: string) => (await call("GET", "/v1/webhook-endpoints", { apiKey: key })).body.data.map((e: { id: string }) => e.id);
    expect(await ids(b.apiKey)).toEqual([]);
    expect(await ids(a.apiKey)).toEqual([ep.id]);
    expect(await ids(testKeyOfA)).toEqual([testEp.id]);
    const [row] = await query<{ enabled: boolean; url: string }>("select enabled, url from webhook_endpoints where id = $1", [ep.id]);
    expect(row).toEqual({ enabled: true, url: "https://hooks.example.com/in" });
  });
});

describe("webhook endpoints: delivery log and replay", () => {
  async function deliveries(endpointId: string, n: number): Promise<string[]> {
    const rows = await query<{ id: string }>(
      `insert into webhook_deliveries (endpoint_id, event_id, event_type, payload, status, attempts, last_status_code, last_error)
       select $1, 'msg_' || g, 'recipient.bounced', jsonb_build_object('seq', g), case when g % 2 = 0 then 'failed' else 'delivered' end,
              g, case when g % 2 = 0 then 503 else 200 end, case when g % 2 = 0 then 'HTTP 503' end
         from generate_series(1, $2) g returning id::text`,
      [endpointId, n],
    );
    return rows.map((r) => r.id);
  }

  it("lists an endpoint's deliveries newest first by cursor, filtered by status, and replays one", async () => {
    const t = await newTenant();
    const ep = (await create(t.apiKey)).body;
    const ids = await deliveries(ep.id, 5);
    const first = await call("GET", `/v1/webhook-endpoints/${ep.id}/deliveries?limit=3`, { apiKey: t.apiKey });
    expect(first.status).toBe(200);
    expect(first.body.hasMore).toBe(true);
    const second = await call("GET", `/v1/webhook-endpoints/${ep.id}/deliveries?limit=3&starting_after=${first.body.nextCursor}`, { apiKey: t.apiKey });
    expect([...first.body.data, ...second.body.data].map((d: { id: string }) => d.id)).toEqual([...ids].reverse());
    expect(first.body.data[0]).toMatchObject({ object: "webhook_delivery", endpointId: ep.id, eventId: "msg_5", eventType: "recipient.bounced", status: "delivered", attempts: 5, lastStatusCode: 200, nextAttemptAt: null, payload: { seq: 5 } });
    const failed = await call("GET", `/v1/webhook-endpoints/${ep.id}/deliveries?status=failed`, { apiKey: t.apiKey });
    expect(failed.body.data.map((d: { eventId: string }) => d.eventId)).toEqual(["msg_4", "msg_2"]);

    const replayed = await call("POST", `/v1/webhook-endpoints/${ep.id}/deliveries/${ids[3]}/replay`, { apiKey: t.apiKey });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ id: ids[3], eventId: "msg_4", status: "pending", attempts: 0 });
    expect(Math.abs(Date.parse(replayed.body.nextAttemptAt) - Date.now())).toBeLessThan(10 * 60_000);

    for (const qs of ["?limit=0", "?limit=501", "?status=lost", "?starting_after=abc"]) {
      expect((await call("GET", `/v1/webhook-endpoints/${ep.id}/deliveries${qs}`, { apiKey: t.apiKey })).status, qs).toBe(422);
    }
    expect((await call("POST", `/v1/webhook-endpoints/${ep.id}/deliveries/999999999999/replay`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("POST", `/v1/webhook-endpoints/${ep.id}/deliveries/x1/replay`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", `/v1/webhook-endpoints/${ep.id}/deliveries/${ids[0]}/replay`, { apiKey: t.apiKey })).status).toBe(405);

    await call("PATCH", `/v1/webhook-endpoints/${ep.id}`, { apiKey: t.apiKey, body: { enabled: false } });
    expect((await call("POST", `/v1/webhook-endpoints/${ep.id}/deliveries/${ids[1]}/replay`, { apiKey: t.apiKey })).status).toBe(409);
  });

  it("another tenant's or mode's endpoint has no visible deliveries, and theirs cannot be replayed through mine", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const testKeyOfA = await addApiKey(a.tenantId, "test");
    const ep = (await create(a.apiKey)).body;
    const [id] = await deliveries(ep.id, 1);
    for (const key of [b.apiKey, testKeyOfA]) {
      expect((await call("GET", `/v1/webhook-endpoints/${ep.id}/deliveries`, { apiKey: key })).status).toBe(404);
      expect((await call("POST", `/v1/webhook-endpoints/${ep.id}/deliveries/${id}/replay`, { apiKey: key })).status).toBe(404);
    }
    const mine = (await create(b.apiKey)).body;
    expect((await call("POST", `/v1/webhook-endpoints/${mine.id}/deliveries/${id}/replay`, { apiKey: b.apiKey })).status).toBe(404);
    const [row] = await query<{ status: string }>("select status from webhook_deliveries where id = $1", [id]);
    expect(row!.status).toBe("delivered");
  });
});
