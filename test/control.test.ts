// Issue 3, "Control": pause and cancel stop new provider calls within one second of the API's answer,
// mid-batch; resume continues exactly where it stopped; the API request's trace id reaches consumer logs.
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTenant } from "./support/fixtures";
import { apiClient, dbPool, stackInfo, waitFor } from "./support/stack";

const pool = dbPool();
let api: ReturnType<typeof apiClient>;
const sandbox = stackInfo().sandboxUrl;

interface Msg {
  to: string;
  callStartedAtMs: number;
}

async function sandboxConfig(body: unknown) {
  const res = await fetch(`${sandbox}/_sandbox/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.ok).toBe(true);
}

async function messages(batchId: string): Promise<Msg[]> {
  const res = await fetch(`${sandbox}/messages?batchId=${batchId}&limit=100000`);
  return ((await res.json()) as { data: Msg[] }).data;
}

async function createAndSend(n: number, label: string, headers: Record<string, string> = {}) {
  const created = await api("POST", "/v1/batches", {
    name: label,
    message: { from: "Control <control@demo.batchsender.dev>", subject: "Hi {{ n }}", text: "Hello {{ n }}" },
    recipients: Array.from({ length: n }, (_, i) => ({ to: `${label}-${i}@example.com`, variables: { n: i } })),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  const sent = await api("POST", `/v1/batches/${id}/send`, undefined, headers);
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  return id;
}

beforeAll(async () => {
  api = apiClient((await newTenant(pool, "control")).apiKey);
  // Slow provider calls so the batch is still mid-flight when we pause or cancel it.
  await sandboxConfig({ latencyMs: 40 });
});
afterEach(() => sandboxConfig({ latencyMs: 40 }));
afterAll(async () => {
  await sandboxConfig({ latencyMs: 0 });
  await pool.end();
});

describe("batch control through the API", () => {
  it("pause stops new provider calls within 1 s; resume finishes every recipient exactly once", async () => {
    const id = await createAndSend(1500, "pause");
    await waitFor("sending started", async () => (await messages(id)).length >= 50, 60_000, 50);

    const paused = await api("POST", `/v1/batches/${id}/pause`);
    const answeredAt = Date.now();
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.status).toBe("paused");

    await new Promise((r) => setTimeout(r, 2500));
    const during = await messages(id);
    const late = during.filter((m) => m.callStartedAtMs > answeredAt + 1000);
    expect(late, "provider calls started more than 1 s after pause answered").toEqual([]);
    expect(during.length).toBeLessThan(1500);
    const afterPause = await api("GET", `/v1/batches/${id}`);
    expect(afterPause.body.status).toBe("paused");

    const resumed = await api("POST", `/v1/batches/${id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(202);
    const done = await waitFor("resumed batch completed", async () => {
      const r = await api("GET", `/v1/batches/${id}`);
      return r.body.status === "completed" ? r.body : undefined;
    });
    expect(done.counts).toMatchObject({ total: 1500, sent: 1500, failed: 0, queued: 0 });
    const all = await messages(id);
    expect(all).toHaveLength(1500);
    expect(new Set(all.map((m) => m.to)).size).toBe(1500);
  });

  it("cancel stops new provider calls within 1 s and cancels every unsent recipient", async () => {
    const id = await createAndSend(1500, "cancel");
    await waitFor("sending started", async () => (await messages(id)).length >= 50, 60_000, 50);

    const cancelled = await api("POST", `/v1/batches/${id}/cancel`);
    const answeredAt = Date.now();
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);

    await new Promise((r) => setTimeout(r, 2500));
    const sent = await messages(id);
    expect(sent.filter((m) => m.callStartedAtMs > answeredAt + 1000)).toEqual([]);

    const final = await waitFor("no recipient left in flight", async () => {
      const { rows } = await pool.query<{ status: string; n: number }>(
        "select status, count(*)::int as n from recipients where batch_id = $1 group by status",
        [id],
      );
      const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      return by.sending || by.queued ? undefined : by;
    }, 30_000);
    expect((final.sent ?? 0) + (final.cancelled ?? 0)).toBe(1500);
    expect(final.sent).toBe(sent.length);
    const batch = await api("GET", `/v1/batches/${id}`);
    expect(batch.body.status).toBe("cancelled");
    expect(batch.body.counts).toMatchObject({ sent: final.sent, cancelled: final.cancelled });
  });

  it("carries the request's trace id from the API through NATS into the consumer's logs", async () => {
    await sandboxConfig({ latencyMs: 0 });
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const id = await createAndSend(3, "trace", { traceparent: `00-${traceId}-${"ab".repeat(8)}-01` });
    await waitFor("batch completed", async () => (await api("GET", `/v1/batches/${id}`)).body.status === "completed");
    const log = fs.readFileSync(path.join(stackInfo().logDir, "consumer-falkenstein.log"), "utf8");
    const lines = log.split("\n").filter((l) => l.includes(id));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes(traceId))).toBe(true);
  });

  it("retry re-sends the failed recipients only", async () => {
    await sandboxConfig({ latencyMs: 0, faults: [1, 4].map((i) => ({ kind: "reject", to: `retry-${i}@example.com` })) });
    const id = await createAndSend(6, "retry");
    const first = await waitFor("first pass completed", async () => {
      const r = await api("GET", `/v1/batches/${id}`);
      return r.body.status === "completed" ? r.body : undefined;
    });
    expect(first.counts).toMatchObject({ sent: 4, failed: 2 });

    await sandboxConfig({ faults: [] });
    const retried = await api("POST", `/v1/batches/${id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    const done = await waitFor("retried batch completed", async () => {
      const r = await api("GET", `/v1/batches/${id}`);
      return r.body.status === "completed" && (r.body.counts as { sent: number }).sent === 6 ? r.body : undefined;
    });
    expect(done.counts).toMatchObject({ total: 6, sent: 6, failed: 0 });
    const all = await messages(id);
    expect(all.map((m) => m.to).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `retry-${i}@example.com`).sort());
  });
});
