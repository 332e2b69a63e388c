/**
 * Republishes outbox rows left unpublished (the publish after commit failed or the isolate died). Rows
 * younger than ~15 s are skipped: their request may still be publishing. `FOR UPDATE SKIP LOCKED` keeps two
 * overlapping cron runs from publishing the same row at once; a duplicate publish would still be harmless.
 * Rows that keep failing sort after fresh ones (by attempts), so one poisoned row cannot starve the rest.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../adapters/db";
import type { Publisher } from "../adapters/publisher";
import { publishOutboxRow, type OutboxRow } from "../services/batches";

const MIN_AGE = "15 seconds";
const BATCH = 100;

export async function sweepOutbox(db: Db, publisher: Publisher): Promise<{ published: number; failed: number }> {
  return db.transaction(async (tx) => {
    const res = await tx.execute<{ id: number; subject: string; payload: unknown; headers: Record<string, string> }>(sql`
      select id, subject, payload, headers from outbox
       where published_at is null and created_at < now() - ${MIN_AGE}::interval
       order by attempts, created_at
       limit ${BATCH}
       for update skip locked`);
    const rows: OutboxRow[] = res.rows.map((r) => ({ ...r, id: Number(r.id) }));
    const outcomes = await Promise.all(rows.map((row) => publishOutboxRow(tx, publisher, row)));
    const published = outcomes.filter(Boolean).length;
    return { published, failed: rows.length - published };
  });
}
