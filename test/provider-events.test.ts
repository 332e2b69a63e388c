// Provider events end to end on the running test stack: an event signed by the sandbox, posted to the edge
// (wrangler dev), published to JetStream, applied by the consumers' events job. Covers the catalog wiring,
// the suppression it causes and an event that arrives before its send result (kept, applied by the sweep).
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createBatch, createTenantWithConfig, testPool } from "./support/fixtures";
import { claimRecipients, recordResults } from "../consumers/jobs/recipient-store";

const pool = testPool();
const api = process.env.BATCHSENDER_API_URL!;
const sandbox = process.env.BATCHSENDER_SANDBOX_URL!;
afterAll(async () => {
  await pool.end();
});

async function postSigned(req: Record<string, unknown>): Promise<number> {
  const r = await fetch(`${sandbox}/_sandbox/events/render`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req) });
  expect(r.status).toBe(200);
  const signed = (await r.json()) as { body: string; headers: Record<string, string> };
  const res = await fetch(`${api}/webhooks/${req.provider as string}`, { method: "POST", headers: signed.headers, body: signed.body });
  return res.status;
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const status = (id: number) => pool.query<{ status: string }>("select status from recipients where id = $1", [id]).then((r) => r.rows[0]!.status);

describe("provider events through edge, JetStream and the events job", () => {
  it("a signed SES hard bounce suppresses the address; a delivery that arrives before its send result is applied once it is recorded", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 2, status: "processing" });
    const token = randomUUID();
    await claimRecipients(pool, { batchId, ids, token });
    const pmid = (id: number) => `e2e-${randomUUID()}-${id}`;
    const [first, second] = ids as [number, number];
    const p1 = pmid(first);
    await recordResults(pool, { batchId, token, results: [{ id: first, status: "sent", providerMessageId: p1 }] });

    expect(await postSigned({ provider: "ses", kind: "hard_bounce", to: "r0@example.com", messageId: p1, tenantId, batchId, recipientId: String(first) })).toBe(200);
    expect(await until(() => status(first), (s) => s === "bounced")).toBe("bounced");
    const supp = await pool.query("select reason from suppressions where tenant_id = $1 and address = 'r0@example.com'", [tenantId]);
    expect(supp.rows).toEqual([{ reason: "hard_bounce" }]);

    // The delivery comes first; the send result is recorded afterwards (outside the consumer's recorder, so
    // the periodic sweep is what applies it).
    const p2 = pmid(second);
    expect(await postSigned({ provider: "ses", kind: "delivered", to: "r1@example.com", messageId: p2, tenantId, batchId, recipientId: String(second) })).toBe(200);
    const pending = await until(
      () => pool.query("select applied_at from provider_events where provider_message_id = $1", [p2]).then((r) => r.rows),
      (rows) => rows.length === 1,
    );
    expect(pending).toEqual([{ applied_at: null }]);
    await recordResults(pool, { batchId, token, results: [{ id: second, status: "sent", providerMessageId: p2 }] });
    expect(await until(() => status(second), (s) => s === "delivered")).toBe("delivered");
    const { rows } = await pool.query("select sent, delivered, bounced from batches where id = $1", [batchId]);
    expect(rows[0]).toEqual({ sent: 2, delivered: 1, bounced: 1 });
  }, 120_000);
});
