// Resend through plain fetch, as the consumers call it: auth errors, single and batch sends, Idempotency-Key
// replay and conflicts, batch size limit, rate limit headers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sandboxCredentials } from "../config";
import { startSandbox, type Sandbox } from "./server";

let sandbox: Sandbox;
const KEY = sandboxCredentials.resend.apiKey;

function email(to: string, batchId: string, recipientId: string) {
  return {
    from: "BatchSender <news@example.com>",
    to: [to],
    subject: "Hi",
    html: "<p>Hi</p>",
    headers: { "List-Unsubscribe": "<https://example.com/u>" },
    tags: [
      { name: "batch_id", value: batchId },
      { name: "recipient_id", value: recipientId },
      { name: "tenant_id", value: "t1" },
    ],
  };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sandbox.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0, credentials: { resend: ["re_byok_test_key"] } });
});
afterAll(async () => sandbox.close());
beforeEach(() => sandbox.reset());

describe("Resend", () => {
  it("answers 401 missing_api_key and 403 invalid_api_key like Resend", async () => {
    const missing = await fetch(`${sandbox.url}/emails`, { method: "POST", body: JSON.stringify(email("a@example.com", "b", "1")) });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ statusCode: 401, name: "missing_api_key", message: "Missing API key in the authorization header." });
    const invalid = await post("/emails", email("a@example.com", "b", "1"), { authorization: "Bearer re_wrong" });
    expect(invalid.status).toBe(403);
    expect(invalid.json).toEqual({ statusCode: 403, name: "invalid_api_key", message: "API key is invalid." });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it("sends one email and records it with tags, headers and the idempotency key", async () => {
    const r = await post("/emails", email("a@example.com", "b-single", "7"), { "idempotency-key": "b-single:7" });
    expect(r.status).toBe(200);
    expect(r.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sandbox.messages({ batchId: "b-single" })).toEqual([
      expect.objectContaining({ id: r.json.id, provider: "resend", to: "a@example.com", recipientId: "7", tenantId: "t1", idempotencyKey: "b-single:7", headers: { "List-Unsubscribe": "<https://example.com/u>" }, credential: KEY }),
    ]);
  });

  it("accepts a BYOK key given at start", async () => {
    const r = await post("/emails", email("byok@example.com", "b-byok", "1"), { authorization: "Bearer re_byok_test_key" });
    expect(r.status).toBe(200);
    expect(sandbox.messages({ batchId: "b-byok" })[0]?.credential).toBe("re_byok_test_key");
  });

  it("sends a batch of 100 and refuses 101 with 422 validation_error", async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => email(`u${i}@example.com`, "b-batch", String(i)));
    const ok = await post("/emails/batch", hundred);
    expect(ok.status).toBe(200);
    const data = ok.json.data as { id: string }[];
    expect(data).toHaveLength(100);
    expect(new Set(data.map((d) => d.id)).size).toBe(100);
    const recorded = sandbox.messages({ batchId: "b-batch" });
    expect(recorded.map((m) => m.id)).toEqual(data.map((d) => d.id));

    const tooMany = await post("/emails/batch", [...hundred, email("x@example.com", "b-batch", "100")]);
    expect(tooMany.status).toBe(422);
    expect(tooMany.json).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(sandbox.messages({ batchId: "b-batch" })).toHaveLength(100);
  });

  it("strict batch validation rejects the whole array; permissive sends the valid ones", async () => {
    const items = [email("ok@example.com", "b-val", "1"), email("not-an-address", "b-val", "2")];
    const strict = await post("/emails/batch", items);
    expect(strict.status).toBe(422);
    expect(strict.json.name).toBe("validation_error");
    expect(sandbox.messages({ batchId: "b-val" })).toHaveLength(0);
    const permissive = await post("/emails/batch", items, { "x-batch-validation": "permissive" });
    expect(permissive.status).toBe(200);
    expect(permissive.json.data).toHaveLength(1);
    expect(permissive.json.errors).toEqual([{ index: 1, message: expect.stringContaining("Invalid `to` field") }]);
    expect(sandbox.messages({ batchId: "b-val" }).map((m) => m.to)).toEqual(["ok@example.com"]);
  });

  it("a missing field is 422 missing_required_field", async () => {
    const { subject: _subject, ...noSubject } = email("a@example.com", "b", "1");
    const r = await post("/emails", noSubject);
    expect(r.status).toBe(422);
    expect(r.json).toEqual({ statusCode: 422, name: "missing_required_field", message: "Missing `subject` field." });
  });

  it("replays the original answer for the same key and body, and records once", async () => {
    const body = email("idem@example.com", "b-idem", "1");
    const first = await post("/emails", body, { "idempotency-key": "b-idem:1" });
    const second = await post("/emails", body, { "idempotency-key": "b-idem:1" });
    expect(second.status).toBe(200);
    expect(second.json).toEqual(first.json);
    const batch = [email("i1@example.com", "b-idem-batch", "1"), email("i2@example.com", "b-idem-batch", "2")];
    const b1 = await post("/emails/batch", batch, { "idempotency-key": "batch:b-idem-batch:x" });
    const b2 = await post("/emails/batch", batch, { "idempotency-key": "batch:b-idem-batch:x" });
    expect(b2.json).toEqual(b1.json);
    expect(sandbox.messages({ batchId: "b-idem" })).toHaveLength(1);
    expect(sandbox.messages({ batchId: "b-idem-batch" })).toHaveLength(2);
  });

  it("the same key with a different body is 409 invalid_idempotent_request", async () => {
    await post("/emails", email("k1@example.com", "b-conflict", "1"), { "idempotency-key": "b-conflict:1" });
    const r = await post("/emails", email("k2@example.com", "b-conflict", "1"), { "idempotency-key": "b-conflict:1" });
    expect(r.status).toBe(409);
    expect(r.json.name).toBe("invalid_idempotent_request");
    expect(sandbox.messages({ batchId: "b-conflict" }).map((m) => m.to)).toEqual(["k1@example.com"]);
  });

  it("a duplicate while the first call is in flight is 409 concurrent_idempotent_requests", async () => {
    await post("/_sandbox/config", { latencyMs: 300 });
    const body = email("slow@example.com", "b-inflight", "1");
    const first = post("/emails", body, { "idempotency-key": "b-inflight:1" });
    await new Promise((r) => setTimeout(r, 50));
    const second = await post("/emails", body, { "idempotency-key": "b-inflight:1" });
    expect(second.status).toBe(409);
    expect(second.json.name).toBe("concurrent_idempotent_requests");
    expect((await first).status).toBe(200);
    expect(sandbox.messages({ batchId: "b-inflight" })).toHaveLength(1);
  });

  it("over the rate limit answers 429 rate_limit_exceeded with ratelimit-* and retry-after; a batch is one request", async () => {
    await post("/_sandbox/config", { rateLimits: { resend: 2 } });
    const batch = Array.from({ length: 10 }, (_, i) => email(`rl${i}@example.com`, "b-rl", String(i)));
    expect((await post("/emails/batch", batch)).status).toBe(200);
    expect((await post("/emails", email("one@example.com", "b-rl", "99"))).status).toBe(200);
    const limited = await post("/emails", email("two@example.com", "b-rl", "100"));
    expect(limited.status).toBe(429);
    expect(limited.json.name).toBe("rate_limit_exceeded");
    expect(limited.headers.get("ratelimit-limit")).toBe("2");
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(sandbox.messages({ batchId: "b-rl" })).toHaveLength(11);
  });
});
