// The sandbox's own surface: fault injection, the /messages query API, the control API's input checks, and
// a throughput check that prints its rate (no timing assertion).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sandboxCredentials } from "../config";
import { startSandbox, type Sandbox } from "./server";

let sandbox: Sandbox;

const resendEmail = (to: string, batchId: string, recipientId: string) => ({
  from: "news@example.com",
  to,
  subject: "s",
  text: "t",
  tags: [
    { name: "batch_id", value: batchId },
    { name: "recipient_id", value: recipientId },
  ],
});

function resend(body: unknown, signal?: AbortSignal) {
  return fetch(`${sandbox.url}/emails`, {
    method: "POST",
    headers: { authorization: `Bearer ${sandboxCredentials.resend.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

function telnyx(to: string, key: string) {
  return fetch(`${sandbox.url}/v2/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${sandboxCredentials.telnyx.apiKey}`, "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify({ to, from: "+12015550100", text: "hi" }),
  });
}

async function config(body: unknown) {
  const res = await fetch(`${sandbox.url}/_sandbox/config`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function getJson(path: string) {
  const res = await fetch(`${sandbox.url}${path}`);
  return { status: res.status, type: res.headers.get("content-type"), json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => sandbox.close());
beforeEach(() => sandbox.reset());

describe("fault injection", () => {
  it("reject fails only the named address, with each provider's permanent error", async () => {
    await config({ faults: [{ to: "bad@example.com", kind: "reject" }, { provider: "telnyx", to: "+12015550199", kind: "reject" }] });
    const bad = await resend(resendEmail("bad@example.com", "b-f", "1"));
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ name: "validation_error" });
    expect((await resend(resendEmail("good@example.com", "b-f", "2"))).status).toBe(200);
    const sms = await telnyx("+12015550199", "b-f:3");
    expect(sms.status).toBe(400);
    expect(((await sms.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("40310");
    expect((await telnyx("+12015550123", "b-f:4")).status).toBe(200);
    expect(sandbox.messages({ batchId: "b-f" }).map((m) => m.to)).toEqual(["good@example.com", "+12015550123"]);
  });

  it("times limits a fault to the first N matching calls; server_error uses the provider's 5xx shape", async () => {
    await config({ faults: [{ provider: "resend", kind: "server_error", times: 2 }] });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await resend(resendEmail(`t${i}@example.com`, "b-times", String(i)))).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(sandbox.messages({ batchId: "b-times" }).map((m) => m.to)).toEqual(["t2@example.com", "t3@example.com"]);
  });

  it("throttle answers the provider's 429", async () => {
    await config({ faults: [{ provider: "telnyx", kind: "throttle", times: 1 }] });
    const r = await telnyx("+12015550123", "b-th:1");
    expect(r.status).toBe(429);
    expect(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("10011");
    expect((await telnyx("+12015550123", "b-th:1")).status).toBe(200);
    expect(sandbox.messages({ batchId: "b-th" })).toHaveLength(1);
  });

  it("timeout holds the call without answering until the client gives up, and records nothing", async () => {
    await config({ faults: [{ kind: "timeout", to: "slow@example.com" }] });
    const err = await resend(resendEmail("slow@example.com", "b-to", "1"), AbortSignal.timeout(300)).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("TimeoutError");
    expect(sandbox.messages({ batchId: "b-to" })).toHaveLength(0);
  });

  it("probability 0 never fires; reset clears faults", async () => {
    await config({ faults: [{ kind: "reject", probability: 0 }] });
    expect((await resend(resendEmail("p@example.com", "b-p", "1"))).status).toBe(200);
    await config({ faults: [{ kind: "reject" }] });
    expect((await resend(resendEmail("p@example.com", "b-p", "2"))).status).toBe(422);
    expect((await fetch(`${sandbox.url}/_sandbox/reset`, { method: "POST" })).status).toBe(204);
    expect((await resend(resendEmail("p@example.com", "b-p", "3"))).status).toBe(200);
    expect(sandbox.messages({ batchId: "b-p" }).map((m) => m.recipientId)).toEqual(["3"]);
  });

  it("refuses an invalid configuration with problem+json 422", async () => {
    const r = await fetch(`${sandbox.url}/_sandbox/config`, { method: "POST", body: JSON.stringify({ faults: [{ kind: "explode" }] }) });
    expect(r.status).toBe(422);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    expect(((await r.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe("faults.0.kind");
  });
});

describe("GET /messages", () => {
  it("filters by batchId, provider and to, pages with limit/offset, and counts cheaply", async () => {
    for (let i = 0; i < 5; i++) await resend(resendEmail(`m${i}@example.com`, "b-q1", String(i)));
    await resend(resendEmail("m0@example.com", "b-q2", "0"));
    await telnyx("+12015550123", "b-q1:99");

    const byBatch = await getJson("/messages?batchId=b-q1");
    expect(byBatch.json.total).toBe(6);
    const resendOnly = await getJson("/messages?batchId=b-q1&provider=resend&limit=2&offset=1");
    expect(resendOnly.json.total).toBe(5);
    expect((resendOnly.json.data as { recipientId: string }[]).map((m) => m.recipientId)).toEqual(["1", "2"]);
    const byTo = await getJson("/messages?to=m0%40example.com");
    expect((byTo.json.data as { batchId: string }[]).map((m) => m.batchId)).toEqual(["b-q1", "b-q2"]);
    const byRecipient = await getJson("/messages?batchId=b-q1&recipientId=99");
    expect((byRecipient.json.data as { provider: string }[])[0]!.provider).toBe("telnyx");

    expect((await getJson("/messages/count?batchId=b-q1")).json).toEqual({ total: 6, distinctRecipients: 6, byProvider: { ses: 0, resend: 5, telnyx: 1 } });
    expect((await getJson("/messages/count")).json.total).toBe(7);

    const bad = await getJson("/messages?provider=smtp");
    expect(bad.status).toBe(400);
    expect(bad.type).toBe("application/problem+json");

    expect((await fetch(`${sandbox.url}/messages`, { method: "DELETE" })).status).toBe(204);
    expect((await getJson("/messages/count")).json.total).toBe(0);
  });

  it("answers unknown routes with problem+json 404 and /health", async () => {
    expect((await getJson("/nope")).status).toBe(404);
    expect((await getJson("/health")).json.status).toBe("ok");
  });
});

describe("throughput", () => {
  it("takes 5,000 Resend sends, 50 at a time, and records each once", async () => {
    const total = 5000;
    const concurrency = 50;
    let next = 0;
    const started = performance.now();
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const res = await resend(resendEmail(`load${i}@example.com`, "b-load", String(i)));
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`sandbox throughput: ${total} sends in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} req/s (${concurrency} concurrent)`);
    expect(statuses.filter((s) => s === 200)).toHaveLength(total);
    expect((await getJson("/messages/count?batchId=b-load")).json).toMatchObject({ total, distinctRecipients: total });
  });
});
