// Telnyx `POST /v2/messages` through plain fetch: auth, E.164 validation with Telnyx's error codes, the
// message resource shape, Idempotency-Key replay, rate limiting.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sandboxCredentials } from "../config";
import { startSandbox, type Sandbox } from "./server";

let sandbox: Sandbox;

async function send(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sandbox.url}/v2/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${sandboxCredentials.telnyx.apiKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as { data?: Record<string, unknown>; errors?: { code: string; title: string; detail: string }[] } };
}

const sms = (to: string) => ({ to, messaging_profile_id: sandboxCredentials.telnyx.messagingProfileId, text: "Your code is 1234" });

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => sandbox.close());
beforeEach(() => sandbox.reset());

describe("Telnyx", () => {
  it("rejects a missing or wrong API key with 401 code 10009", async () => {
    const r = await send(sms("+12015550123"), { authorization: "Bearer KEYWRONG" });
    expect(r.status).toBe(401);
    expect(r.json.errors?.[0]).toMatchObject({ code: "10009", title: "Authentication failed" });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it("queues a valid E.164 number and records it under the ids in its Idempotency-Key", async () => {
    const r = await send(sms("+12015550123"), { "idempotency-key": "b-sms:42" });
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({
      record_type: "message",
      direction: "outbound",
      type: "SMS",
      to: [{ phone_number: "+12015550123", status: "queued" }],
      text: "Your code is 1234",
      encoding: "GSM-7",
      parts: 1,
    });
    expect(sandbox.messages({ provider: "telnyx" })).toEqual([
      expect.objectContaining({ id: r.json.data?.id, to: "+12015550123", batchId: "b-sms", recipientId: "42", idempotencyKey: "b-sms:42", text: "Your code is 1234" }),
    ]);
  });

  it.each(["2015550123", "+1201555012", "+99912345678", "+1 201 555 0123"])("refuses %s with 400 code 40310", async (to) => {
    const r = await send(sms(to));
    expect(r.status).toBe(400);
    expect(r.json.errors?.[0]).toMatchObject({ code: "40310", title: "Invalid 'to' address" });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it("refuses a call without from or messaging_profile_id", async () => {
    const r = await send({ to: "+12015550123", text: "hi" });
    expect(r.status).toBe(400);
    expect(r.json.errors?.[0]?.code).toBe("40305");
  });

  it("a repeated Idempotency-Key returns the original message and records no new one", async () => {
    const first = await send(sms("+447911123456"), { "idempotency-key": "b-idem:1" });
    const again = await send(sms("+447911123456"), { "idempotency-key": "b-idem:1" });
    const otherBody = await send({ ...sms("+447911123456"), text: "changed" }, { "idempotency-key": "b-idem:1" });
    expect(first.status).toBe(200);
    expect(again.json.data?.id).toBe(first.json.data?.id);
    expect(otherBody.json.data?.id).toBe(first.json.data?.id);
    expect(sandbox.messages({ batchId: "b-idem" })).toHaveLength(1);
    await send(sms("+447911123456"), { "idempotency-key": "b-idem:2" });
    expect(sandbox.messages({ batchId: "b-idem" })).toHaveLength(2);
  });

  it("over the rate limit answers 429 code 10011 with retry-after", async () => {
    await fetch(`${sandbox.url}/_sandbox/config`, { method: "POST", body: JSON.stringify({ rateLimits: { telnyx: 1 } }) });
    expect((await send(sms("+12015550123"))).status).toBe(200);
    const limited = await send(sms("+12015550123"));
    expect(limited.status).toBe(429);
    expect(limited.json.errors?.[0]?.code).toBe("10011");
    expect(limited.headers.get("retry-after")).toBe("1");
  });
});
