/**
 * `npm run bench:upload` — recipients/s of a 1,000,000-row CSV streamed through the local edge
 * (POST /v1/batches/{id}/recipients, wrangler dev → workerd → Postgres), next to raw `COPY … FROM STDIN` of
 * the same rows into the same table, in the same run, as a ratio (issue 7's goal: at least 40% of COPY).
 *
 * Standalone: starts the test-profile stack (dev/stack.ts; BATCHSENDER_TEST_INSTANCE moves its ports and
 * database) and stops it at the end. `-- --rows=N` changes the size (default 1,000,000). Prints a table and the
 * workerd processes' peak RSS; asserts nothing.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { startStack } from "../dev/stack";
import { createTenantWithKey } from "../test/support/fixtures";
import { edgeWorkerdPids, sampleRss, uploadCsv, uploadRow } from "../test/support/upload";

const ROWS = Number(process.argv.find((a) => a.startsWith("--rows="))?.split("=")[1] ?? 1_000_000);

/** A draft whose one recipient is the upload's first row (a duplicate), so a full upload fits the 1,000,000 cap. */
async function draftBatch(apiUrl: string, apiKey: string, name: string): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/batches`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name, dryRun: true, message: { subject: "Hi {{ name }}", text: "Plan {{ plan }}" }, recipients: [{ to: uploadRow(0).split(",")[0] }] }),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || !body.id) throw new Error(`creating the batch failed: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** The same rows as the upload's CSV (test/support/upload.ts uploadRow), as COPY's CSV with jsonb variables. */
function* copyRows(batchId: string, tenantId: string): Generator<string> {
  let chunk = "";
  for (let i = 0; i < ROWS; i++) {
    const vars = JSON.stringify({ name: `User ${i}`, plan: i % 3 ? "free" : "pro" }).replaceAll('"', '""');
    chunk += `${batchId},${tenantId},user${i}@example.com,"${vars}",pending\n`;
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

async function rawCopy(pool: pg.Pool, batchId: string, tenantId: string): Promise<number> {
  const client = await pool.connect();
  try {
    const t0 = performance.now();
    const sink = client.query(copyFrom("copy recipients (batch_id, tenant_id, address, variables, status) from stdin with (format csv)"));
    await pipeline(Readable.from(copyRows(batchId, tenantId)), sink);
    return (performance.now() - t0) / 1000;
  } finally {
    client.release();
  }
}

async function main() {
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  const stack = await startStack("test", log);
  const pool = new pg.Pool({ connectionString: stack.info.urls.databaseUrl, max: 2 });
  try {
    const tenant = await createTenantWithKey(pool, `bench upload ${crypto.randomUUID().slice(0, 8)}`);
    const { apiUrl } = stack.info;
    // Warm the edge (first request compiles and opens its connections).
    await uploadCsv(apiUrl, tenant.apiKey, await draftBatch(apiUrl, tenant.apiKey, "warm-up"), 1_000);

    const uploadBatch = await draftBatch(apiUrl, tenant.apiKey, "bench upload");
    const rss = sampleRss(edgeWorkerdPids(apiUrl));
    const upload = await uploadCsv(apiUrl, tenant.apiKey, uploadBatch, ROWS);
    const memory = rss.stop();
    if (upload.status !== 200) throw new Error(`upload failed: ${upload.status} ${JSON.stringify(upload.body).slice(0, 500)}`);

    const copyBatch = await draftBatch(apiUrl, tenant.apiKey, "bench copy");
    const copySeconds = await rawCopy(pool, copyBatch, tenant.tenantId);
    const { rows } = await pool.query<{ batch_id: string; n: number }>(
      "select batch_id, count(*)::int as n from recipients where batch_id = any($1::uuid[]) group by batch_id",
      [[uploadBatch, copyBatch]],
    );
    const stored = Object.fromEntries(rows.map((r) => [r.batch_id, r.n]));

    const uploadRate = ROWS / upload.seconds;
    const copyRate = ROWS / copySeconds;
    console.log(`\nStreamed upload vs raw COPY, ${ROWS} rows (${new Date().toISOString()})\n`);
    console.table([
      { path: "POST …/recipients (text/csv) through wrangler dev", seconds: +upload.seconds.toFixed(2), rowsPerSecond: Math.round(uploadRate), stored: stored[uploadBatch] },
      { path: "COPY recipients FROM STDIN (pg, same table)", seconds: +copySeconds.toFixed(2), rowsPerSecond: Math.round(copyRate), stored: stored[copyBatch] },
    ]);
    console.log(`upload / COPY = ${((uploadRate / copyRate) * 100).toFixed(0)}% (goal ≥ 40%)`);
    console.log(`workerd RSS during the upload: ${memory.map((m) => `pid ${m.pid} ${m.baselineMb.toFixed(0)} → peak ${m.peakMb.toFixed(0)} MB`).join(", ")}`);
    // The rows are bench data: drop them so the test database stays small.
    await pool.query("delete from batches where tenant_id = $1", [tenant.tenantId]);
  } finally {
    await pool.end();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
