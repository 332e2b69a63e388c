// Issue 7, proof: a 1,000,000-recipient CSV streamed through the local edge (wrangler dev, workerd) completes
// with every row stored exactly once, and the worker's memory stays bounded while it runs. Prints the peak.
import { afterAll, describe, expect, it } from "vitest";
import { newTenant } from "./support/fixtures";
import { apiClient, dbPool, stackInfo } from "./support/stack";
import { edgeWorkerdPids, sampleRss, uploadCsv, uploadRow } from "./support/upload";

const ROWS = 1_000_000;
const WARM_UP_ROWS = 100_000;
/**
 * Bounded means the million-row upload needs no more memory than a tenth of it did: after a 100,000-row
 * upload has grown workerd to its working size, the 1,000,000-row one may raise the peak RSS of a workerd
 * process by at most this much. Memory held per row would show as roughly nine times the warm-up's growth
 * (the body alone is ~40 MB, ~80 MB as a JS string, its rows as objects several times that).
 */
const MAX_EXTRA_PEAK_MB = 96;

const pool = dbPool();
let tenantId: string | undefined;
afterAll(async () => {
  // A million rows are bench-sized data: drop them (cascade) so the test database stays small for later runs.
  if (tenantId) await pool.query("delete from batches where tenant_id = $1", [tenantId]);
  await pool.end();
});

describe("a 1,000,000-row CSV upload through the local edge", () => {
  it("stores every row exactly once, in bounded worker memory", { timeout: 900_000 }, async () => {
    const { apiUrl } = stackInfo();
    const tenant = await newTenant(pool, "upload-1m");
    tenantId = tenant.tenantId;
    const api = apiClient(tenant.apiKey);
    const draft = async (name: string) => {
      const created = await api("POST", "/v1/batches", {
        name,
        dryRun: true,
        message: { subject: "Hi {{ name }}", text: "Your plan: {{ plan }}" },
        recipients: [{ to: uploadRow(0).split(",")[0] }],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body.id as string;
    };
    const pids = edgeWorkerdPids(apiUrl);
    const rssLine = (m: ReturnType<ReturnType<typeof sampleRss>["stop"]>) =>
      m.map((p) => `pid ${p.pid}: ${p.baselineMb.toFixed(0)} → peak ${p.peakMb.toFixed(0)} MB`).join(", ");

    const warmRss = sampleRss(pids);
    const warm = await uploadCsv(apiUrl, tenant.apiKey, await draft("Upload warm-up"), WARM_UP_ROWS);
    const warmMemory = warmRss.stop();
    expect(warm.status, JSON.stringify(warm.body)).toBe(200);
    console.log(`[upload-1m] warm-up: ${WARM_UP_ROWS} rows in ${warm.seconds.toFixed(1)} s; workerd RSS ${rssLine(warmMemory)}`);

    const batchId = await draft("Upload 1M");
    const rss = sampleRss(pids);
    const res = await uploadCsv(apiUrl, tenant.apiKey, batchId, ROWS);
    const memory = rss.stop();
    console.log(`[upload-1m] ${ROWS} rows in ${res.seconds.toFixed(1)} s (${Math.round(ROWS / res.seconds)} rows/s); workerd RSS ${rssLine(memory)}`);

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // Row 0 was in the batch already: a duplicate, dropped and counted.
    expect(res.body).toMatchObject({ added: ROWS - 1, duplicatesRemoved: 1, rejected: 0, batch: { counts: { total: ROWS } } });
    const { rows } = await pool.query<{ n: number; distinct: number; named: number }>(
      `select count(*)::int as n, count(distinct address)::int as distinct,
              count(*) filter (where variables->>'name' = 'User ' || substring(address from '^user([0-9]+)@'))::int as named
         from recipients where batch_id = $1`,
      [batchId],
    );
    expect(rows[0]).toEqual({ n: ROWS, distinct: ROWS, named: ROWS - 1 });
    for (const m of memory) {
      const warmPeak = warmMemory.find((w) => w.pid === m.pid)!.peakMb;
      expect(m.peakMb - warmPeak, `workerd pid ${m.pid}: peak ${m.peakMb.toFixed(0)} MB vs ${warmPeak.toFixed(0)} MB for ${WARM_UP_ROWS} rows`).toBeLessThan(MAX_EXTRA_PEAK_MB);
    }
  });
});
