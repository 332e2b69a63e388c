// Issue 7: Idempotency-Key on every POST, in its own table keyed by (tenant, key): 24 h retention, same key
// with a different request → 422, a request still in flight → 409, a replay returns the original status and body.
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/domain/api-keys";
import { call, emailBatch, newTenant, query } from "./harness";

const key = () => ({ "idempotency-key": `k-${crypto.randomUUID()}` });

describe("Idempotency-Key", () => {
  it("replays a transition's original answer without running it again", async () => {
    const t = await newTenant();
    const id = (await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() })).body.id;
    const headers = key();
    const first = await call("POST", `/v1/batches/${id}/cancel`, { apiKey: t.apiKey, headers });
    expect(first.status).toBe(200);
    const again = await call("POST", `/v1/batches/${id}/cancel`, { apiKey: t.apiKey, headers });
    // Without the key a second cancel is a 409; with it, the first 200 is replayed.
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect((await call("POST", `/v1/batches/${id}/cancel`, { apiKey: t.apiKey })).status).toBe(409);
  });

  it("replays 4xx answers too, and refuses the key on another path", async () => {
    const t = await newTenant();
    const headers = key();
    const bad = await call("POST", "/v1/batches", { apiKey: t.apiKey, headers, body: emailBatch({ name: "" }) });
    expect(bad.status).toBe(422);
    const again = await call("POST", "/v1/batches", { apiKey: t.apiKey, headers, body: emailBatch({ name: "" }) });
    expect(again.status).toBe(422);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.errors).toEqual(bad.body.errors);
    const elsewhere = await call("POST", "/v1/batches/0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10/send", { apiKey: t.apiKey, headers });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.errors[0].path).toBe("Idempotency-Key");
  });

  it("a request still in flight is 409; an abandoned claim or an answer older than 24 h is taken over", async () => {
    const t = await newTenant();
    const body = JSON.stringify(emailBatch());
    const fingerprint = await sha256Hex(`POST\n/v1/batches\n${body}`);
    await query("insert into idempotency_keys (tenant_id, key, fingerprint) values ($1, 'in-flight', $2)", [t.tenantId, fingerprint]);
    const busy = await call("POST", "/v1/batches", { apiKey: t.apiKey, headers: { "idempotency-key": "in-flight" }, body });
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toContain("still in progress");

    await query("update idempotency_keys set created_at = now() - interval '3 minutes' where tenant_id = $1", [t.tenantId]);
    const takenOver = await call("POST", "/v1/batches", { apiKey: t.apiKey, headers: { "idempotency-key": "in-flight" }, body });
    expect(takenOver.status).toBe(201);

    await query(
      "insert into idempotency_keys (tenant_id, key, fingerprint, status, response_body, created_at) values ($1, 'old', 'other', 201, '{}', now() - interval '25 hours')",
      [t.tenantId],
    );
    const fresh = await call("POST", "/v1/batches", { apiKey: t.apiKey, headers: { "idempotency-key": "old" }, body });
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get("idempotent-replayed")).toBeNull();
    const rows = await query<{ key: string; status: number }>("select key, status from idempotency_keys where tenant_id = $1 order by key", [t.tenantId]);
    expect(rows).toEqual([
      { key: "in-flight", status: 201 },
      { key: "old", status: 201 },
    ]);
  });

  it("keys are per tenant, and a malformed key is 422", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const headers = key();
    expect((await call("POST", "/v1/batches", { apiKey: a.apiKey, headers, body: emailBatch() })).status).toBe(201);
    const other = await call("POST", "/v1/batches", { apiKey: b.apiKey, headers, body: emailBatch({ name: "B" }) });
    expect(other.status).toBe(201);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    const badKey = await call("POST", "/v1/batches", { apiKey: a.apiKey, headers: { "idempotency-key": "has space" }, body: emailBatch() });
    expect(badKey.status).toBe(422);
  });
});
