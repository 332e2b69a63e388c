// Group commit against the real test Postgres: concurrent chunks of two batches recorded through one
// ResultRecorder keep every guarantee of the per-call statement (claim-token guard, counters equal rows).
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { batchRow, createBatch, createTenantWithConfig, recipientStatusCounts, testPool } from "../../test/support/fixtures";
import { claimRecipients, isDone, recordResults, type Db, type FinalResult } from "./recipient-store";
import { ResultRecorder } from "./result-recorder";

const pool = testPool();

afterAll(async () => {
  await pool.end();
});

async function processingBatch(count: number) {
  const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
  return createBatch(pool, { tenantId, sendConfigId, provider: "ses", count, status: "processing" });
}

/** Claims `ids` in chunks of `size`, each chunk with its own token, like concurrent sender chunks do. */
async function claimChunks(batchId: string, ids: number[], size: number) {
  const chunks: { token: string; ids: number[] }[] = [];
  for (let i = 0; i < ids.length; i += size) {
    const token = randomUUID();
    const claimed = await claimRecipients(pool, { batchId, ids: ids.slice(i, i + size), token });
    chunks.push({ token, ids: claimed.map((r) => r.id) });
  }
  return chunks;
}

const outcome = (id: number): FinalResult =>
  id % 7 === 0 ? { id, status: "failed", error: "rejected" } : id % 11 === 0 ? { id, status: "cancelled", error: "batch cancelled" } : { id, status: "sent", providerMessageId: `pm-${id}` };

describe("ResultRecorder on Postgres", () => {
  it("records concurrent chunks of two batches in few statements; counters equal the rows", async () => {
    const a = await processingBatch(120);
    const b = await processingBatch(80);
    const chunks = [...(await claimChunks(a.batchId, a.ids, 10)).map((c) => ({ ...c, batchId: a.batchId })), ...(await claimChunks(b.batchId, b.ids, 10)).map((c) => ({ ...c, batchId: b.batchId }))];

    let statements = 0;
    const counting: Db = {
      query: ((text: string, values: unknown[]) => {
        statements++;
        return pool.query(text, values);
      }) as unknown as Db["query"],
    };
    const rec = new ResultRecorder(counting, { maxResults: 250 });
    // Every chunk records its rows one "provider call" (2 recipients) at a time, all chunks concurrently.
    const last = new Map<string, boolean>();
    await Promise.all(
      chunks.map(async (c) => {
        for (let i = 0; i < c.ids.length; i += 2) {
          const counters = await rec.record({ batchId: c.batchId, token: c.token, results: c.ids.slice(i, i + 2).map(outcome) });
          expect(counters).toBeDefined();
          last.set(c.batchId, isDone(counters));
        }
      }),
    );
    expect(statements).toBeLessThan(chunks.length * 5); // 100 calls → far fewer statements
    expect(last.get(a.batchId)).toBe(true);
    expect(last.get(b.batchId)).toBe(true);

    for (const { batchId, ids } of [a, b]) {
      const counts = await recipientStatusCounts(pool, batchId);
      const row = await batchRow(pool, batchId);
      expect(row.sent).toBe(counts.sent ?? 0);
      expect(row.failed).toBe(counts.failed ?? 0);
      expect(row.cancelled).toBe(counts.cancelled ?? 0);
      expect(row.queued).toBe(0);
      expect(row.sent + row.failed + row.cancelled).toBe(ids.length);
      const { rows } = await pool.query<{ n: number }>(
        "select count(*)::int as n from recipients where batch_id = $1 and (claim_token is not null or lease_until is not null)",
        [batchId],
      );
      expect(rows[0]!.n).toBe(0);
    }
  });

  it("does not write or count a row whose claim was lost, even when it shares a statement with valid rows", async () => {
    const a = await processingBatch(4);
    const b = await processingBatch(4);
    const [ca] = await claimChunks(a.batchId, a.ids, 4);
    const [cb] = await claimChunks(b.batchId, b.ids, 4);
    // Batch A's lease expired and another consumer re-claimed its rows with a new token.
    await pool.query("update recipients set lease_until = now() - interval '1 second' where batch_id = $1", [a.batchId]);
    const [newer] = await claimChunks(a.batchId, a.ids, 4);
    expect(newer!.ids).toEqual(a.ids);

    const rec = new ResultRecorder(pool);
    const [stale, valid] = await Promise.all([
      rec.record({ batchId: a.batchId, token: ca!.token, results: ca!.ids.map((id) => ({ id, status: "failed" as const, error: "stale" })) }),
      rec.record({ batchId: b.batchId, token: cb!.token, results: cb!.ids.map((id) => ({ id, status: "sent" as const })) }),
    ]);
    // The stale caller still gets its batch's (unchanged) counters, as recordResults always did.
    expect(stale).toMatchObject({ total: 4, sent: 0, failed: 0 });
    expect(valid).toMatchObject({ total: 4, sent: 4 });
    expect(await recipientStatusCounts(pool, a.batchId)).toEqual({ sending: 4 });
    expect(await batchRow(pool, a.batchId)).toMatchObject({ sent: 0, failed: 0, queued: 4 });
    expect(await recipientStatusCounts(pool, b.batchId)).toEqual({ sent: 4 });

    // The live claim still records normally.
    const counters = await recordResults(pool, { batchId: a.batchId, token: newer!.token, results: newer!.ids.map((id) => ({ id, status: "sent" as const })) });
    expect(counters).toMatchObject({ sent: 4, failed: 0 });
  });

  it("a statement failing for one entry's sake still lands every other entry; the bad one is kept and retried", async () => {
    const a = await processingBatch(3);
    const b = await processingBatch(3);
    const [ca] = await claimChunks(a.batchId, a.ids, 3);
    const [cb] = await claimChunks(b.batchId, b.ids, 3);
    const rec = new ResultRecorder(pool, { retryCapMs: 20 });
    const good = rec.record({ batchId: a.batchId, token: ca!.token, results: ca!.ids.map((id) => ({ id, status: "sent" as const })) });
    // An invalid claim token (not a uuid) fails the whole grouped statement.
    const bad = rec.record({ batchId: b.batchId, token: "not-a-uuid", results: cb!.ids.map((id) => ({ id, status: "sent" as const })) }).then(
      () => "landed",
      (e: Error) => e.name,
    );
    expect(await good).toMatchObject({ sent: 3 });
    expect(await recipientStatusCounts(pool, a.batchId)).toEqual({ sent: 3 });
    await new Promise((r) => setTimeout(r, 100));
    expect(rec.retries).toBeGreaterThan(1);
    rec.close();
    expect(await bad).toBe("RecorderClosedError");
    // Nothing of the bad entry was written or released.
    expect(await recipientStatusCounts(pool, b.batchId)).toEqual({ sending: 3 });
  });
});
