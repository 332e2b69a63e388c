/**
 * `npm run bench:events` — what one events consumer applies per second (the goal: ≥ 5,000 events/s):
 * the consumer's own path after JetStream (EventApplier: dedupe insert + one grouped apply statement per
 * flush), with 2,000 events in flight as the pull loop keeps them, on the test profile's Postgres
 * (BATCHSENDER_TEST_INSTANCE picks the database). Compared in the same run with the physical floor: the same
 * events inserted raw with one `unnest` INSERT per 2,000 (no dedupe, no matching, no counters).
 *
 * Not measured here yet: webhook ingest at the edge and rows/s into ClickHouse. `--quick` shrinks it.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { ProviderEventMessage } from "../core/contract";
import { EventApplier } from "../consumers/jobs/events";
import { claimRecipients, recordResults } from "../consumers/jobs/recipient-store";
import { localUrls } from "../dev/config";
import { runMigrations } from "../dev/migrate";
import { createBatch, createTenantWithConfig } from "../test/support/fixtures";

const quick = process.argv.includes("--quick");
const RECIPIENTS = quick ? 5_000 : 20_000;
const IN_FLIGHT = 2_000;

const url = localUrls("test").databaseUrl;
await runMigrations(url);
const pool = new pg.Pool({ connectionString: url, max: 8 });
try {
  const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses", "bench-events");
  const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: RECIPIENTS, status: "processing" });
  const token = randomUUID();
  for (let i = 0; i < ids.length; i += 1000) await claimRecipients(pool, { batchId, ids: ids.slice(i, i + 1000), token });
  const pmid = (id: number) => `bench-${batchId}-${id}`;
  for (let i = 0; i < ids.length; i += 5000) await recordResults(pool, { batchId, token, results: ids.slice(i, i + 5000).map((id) => ({ id, status: "sent" as const, providerMessageId: pmid(id) })) });

  const now = new Date().toISOString();
  const ev = (id: number, type: ProviderEventMessage["type"]): ProviderEventMessage => ({ provider: "ses", eventId: randomUUID(), type, providerType: type, providerMessageId: pmid(id), tenantId, occurredAt: now, receivedAt: now, raw: { eventType: type } });
  // Delivered for all, opened for every second, clicked for every fourth; 5% duplicates.
  const events = ids.flatMap((id, i) => [ev(id, "delivered"), ...(i % 2 === 0 ? [ev(id, "opened")] : []), ...(i % 4 === 0 ? [ev(id, "clicked")] : [])]);
  events.push(...events.slice(0, Math.floor(events.length * 0.05)));

  const timed = { query: (async (text: string, values: unknown[]) => { const t = performance.now(); try { return await pool.query(text, values); } finally { if (process.env.BENCH_TRACE) console.log(text.trim().slice(0, 30).replace(/\s+/g, " "), Math.round(performance.now() - t), "ms"); } }) as unknown as pg.Pool["query"] };
  const applier = new EventApplier(timed);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < events.length) await applier.add(events[next++]!);
    }),
  );
  const applySeconds = (performance.now() - t0) / 1000;

  // Baseline: the same rows, raw, into a scratch copy of provider_events.
  const client = await pool.connect();
  let rawSeconds = 0;
  try {
    await client.query("create temp table bench_raw (like provider_events including defaults)");
    const t1 = performance.now();
    for (let i = 0; i < events.length; i += IN_FLIGHT) {
      const part = events.slice(i, i + IN_FLIGHT);
      await client.query(
        `insert into bench_raw (provider, event_id, tenant_id, provider_message_id, type, occurred_at, payload)
         select * from unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])`,
        [part.map((e) => e.provider), part.map((e) => e.eventId), part.map((e) => e.tenantId), part.map((e) => e.providerMessageId), part.map((e) => e.type), part.map((e) => e.occurredAt), part.map((e) => JSON.stringify(e))],
      );
    }
    rawSeconds = (performance.now() - t1) / 1000;
  } finally {
    client.release();
  }
  const { rows } = await pool.query("select delivered, opened, clicked from batches where id = $1", [batchId]);
  console.table([
    { path: "events consumer (dedupe + apply + counters)", events: events.length, seconds: +applySeconds.toFixed(2), perSecond: Math.round(events.length / applySeconds), flushes: applier.stats.flushes, duplicates: applier.stats.duplicates },
    { path: "raw unnest INSERT of the same rows", events: events.length, seconds: +rawSeconds.toFixed(2), perSecond: Math.round(events.length / rawSeconds), flushes: Math.ceil(events.length / IN_FLIGHT), duplicates: 0 },
  ]);
  console.log("batch counters after:", rows[0]);
} finally {
  await pool.end();
}
