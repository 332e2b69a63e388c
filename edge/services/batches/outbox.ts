/**
 * The transactional outbox: the plan message is written in the same transaction as the state change, then
 * published after commit. If the publish fails the row stays unpublished and the cron sweep
 * (edge/cron/outbox-sweep.ts) republishes it, so an accepted send is never lost. Duplicate publishes are
 * harmless: the planner's transitions are guarded in Postgres.
 */
import { sql } from "drizzle-orm";
import { PlanBatchMessage, Region, subjects, TRACE_HEADER } from "../../../core/contract";
import type { Db, Executor } from "../../adapters/db";
import type { Publisher } from "../../adapters/publisher";

export interface OutboxRow {
  id: number;
  subject: string;
  payload: unknown;
  headers: Record<string, string>;
}

export async function enqueuePlan(
  tx: Executor,
  msg: { batchId: string; tenantId: string; region: string; traceId: string | null; generation?: number },
): Promise<OutboxRow> {
  const region = Region.parse(msg.region);
  const payload = PlanBatchMessage.parse({ batchId: msg.batchId, tenantId: msg.tenantId, generation: msg.generation });
  const headers: Record<string, string> = msg.traceId ? { [TRACE_HEADER]: msg.traceId } : {};
  const res = await tx.execute<{ id: number }>(sql`
    insert into outbox (subject, payload, headers)
    values (${subjects.plan(region)}, ${JSON.stringify(payload)}::jsonb, ${JSON.stringify(headers)}::jsonb)
    returning id`);
  return { id: Number(res.rows[0]!.id), subject: subjects.plan(region), payload, headers };
}

/** The region a subject belongs to (`batch.<region>.plan`, `send.<region>.<channel>`). */
export function regionOfSubject(subject: string): Region | undefined {
  const parsed = Region.safeParse(subject.split(".")[1]);
  return parsed.success ? parsed.data : undefined;
}

/** Publishes one outbox row and records the outcome; never throws (the row stays for the sweep). */
export async function publishOutboxRow(db: Executor | Db, publisher: Publisher, row: OutboxRow): Promise<boolean> {
  try {
    const region = regionOfSubject(row.subject);
    if (!region) throw new Error(`subject ${row.subject} names no region`);
    // `region` is the batch's home; the edge's publisher (adapters/routed-publisher.ts) sends it to the live
    // region of the failover map and rewrites the subject to match.
    await publisher.publish(region, row.subject, JSON.stringify(row.payload), row.headers);
    await db.execute(sql`update outbox set published_at = now(), attempts = attempts + 1, last_error = null
                          where id = ${row.id} and published_at is null`);
    return true;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.warn(`outbox ${row.id} (${row.subject}) not published, the sweep will retry: ${message}`);
    await db
      .execute(sql`update outbox set attempts = attempts + 1, last_error = ${message.slice(0, 500)} where id = ${row.id}`)
      .catch((e: unknown) => console.error(`could not record outbox ${row.id} failure`, e));
    return false;
  }
}
