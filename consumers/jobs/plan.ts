/**
 * Planner (`batch.<region>.plan`): turns a queued batch into provider-sized chunks of recipient ids on
 * `send.<region>.<channel>`. Re-planning (redelivery, resume after pause) is harmless: chunks name ids, and
 * the sender's guarded claim skips rows that are already terminal or held by a live claim.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { Logger } from "pino";
import { SendChunkMessage, subjects, TRACE_HEADER, type PlanBatchMessage, type Region } from "../../core/contract";
import { CHUNK_SIZE, chunk, type ProviderName } from "./chunking";
import { completeIfDone, failQueuedRecipients, type Db } from "./recipient-store";
import type { JobContext, JobOutcome } from "./runner";

export interface PlanDeps {
  db: Db;
  js: JetStreamClient;
  region: Region;
  log: Logger;
  /** Called while publishing so the plan message's ack wait is extended on very large batches. */
  heartbeat?: () => void;
  /** Publishes awaited concurrently (JetStream acks pipelined). */
  maxInFlight?: number;
  pageSize?: number;
}

export type PlanResult =
  | { kind: "skipped"; reason: string }
  | { kind: "planned"; recipients: number; chunks: number; completed: boolean };

export async function planBatch(deps: PlanDeps, msg: PlanBatchMessage, traceId?: string): Promise<PlanResult> {
  const { db, log } = deps;
  const found = await db.query<{ status: string; channel: "email" | "sms" | "webhook"; provider: ProviderName }>(
    `select b.status, b.channel, sc.provider
       from batches b join send_configs sc on sc.id = b.send_config_id
      where b.id = $1 and b.tenant_id = $2`,
    [msg.batchId, msg.tenantId],
  );
  const batch = found.rows[0];
  if (!batch) return { kind: "skipped", reason: "batch not found for tenant" };
  if (batch.status === "queued") {
    await db.query(
      `update batches set status = 'processing', started_at = coalesce(started_at, now()), updated_at = now()
        where id = $1 and status = 'queued'`,
      [msg.batchId],
    );
  } else if (batch.status !== "processing") {
    // paused, cancelled, completed, draft, scheduled, failed: nothing to plan; a resume publishes a new plan.
    return { kind: "skipped", reason: `batch is ${batch.status}` };
  }

  const subject = subjects.send(deps.region, batch.channel);
  const size = CHUNK_SIZE[batch.provider];
  const pageSize = deps.pageSize ?? 10_000;
  const maxInFlight = deps.maxInFlight ?? 256;
  const h = natsHeaders();
  if (traceId) h.set(TRACE_HEADER, traceId);

  let inFlight: Promise<unknown>[] = [];
  let recipients = 0;
  let chunks = 0;
  let after = 0;
  // Keyset pages in id order keep memory flat for million-recipient batches.
  for (;;) {
    const page = await db.query<{ id: string }>(
      `select id from recipients
        where batch_id = $1 and id > $2
          and (status = 'queued' or (status = 'sending' and lease_until < now()))
        order by id limit $3`,
      [msg.batchId, after, pageSize],
    );
    if (page.rows.length === 0) break;
    const ids = page.rows.map((r) => Number(r.id));
    after = ids[ids.length - 1]!;
    for (const part of chunk(ids, size)) {
      const body: SendChunkMessage = { batchId: msg.batchId, tenantId: msg.tenantId, recipientIds: part };
      inFlight.push(deps.js.publish(subject, JSON.stringify(body), { headers: h }));
      chunks++;
      recipients += part.length;
      if (inFlight.length >= maxInFlight) {
        await Promise.all(inFlight);
        inFlight = [];
        deps.heartbeat?.();
      }
    }
    if (page.rows.length < pageSize) break;
  }
  await Promise.all(inFlight);

  // Nothing left to send (all suppressed, cancelled or already done): the batch is complete now.
  const completed = recipients === 0 ? await completeIfDone(db, msg.batchId) : false;
  log.info({ batchId: msg.batchId, recipients, chunks, completed }, "batch planned");
  return { kind: "planned", recipients, chunks, completed };
}

/** Catalog handler (runner.ts does decode, trace, heartbeat, ack/nak/DLQ): plan, then ack after the publishes. */
export async function planMessage(deps: PlanDeps, ctx: JobContext, body: PlanBatchMessage): Promise<JobOutcome> {
  const res = await planBatch({ ...deps, log: ctx.log }, body, ctx.traceId);
  if (res.kind === "skipped") ctx.log.info({ reason: res.reason }, "plan skipped");
  return { kind: "ack" };
}

/**
 * Dead letter of a plan message: no chunk may exist for the batch's still-queued recipients, so they fail
 * with the reason (in bounded steps) and the batch completes, instead of staying `processing` forever.
 * Rows held by a live claim are left to it. A paused or cancelled batch is left alone (resume re-plans).
 */
export async function failPlannedBatch(deps: PlanDeps, ctx: JobContext, body: PlanBatchMessage, reason: string): Promise<{ failedRecipients: number }> {
  const started = await deps.db.query(
    `update batches set status = 'processing', started_at = coalesce(started_at, now()), updated_at = now()
      where id = $1 and tenant_id = $2 and status in ('queued', 'processing') returning id`,
    [body.batchId, body.tenantId],
  );
  if ((started.rowCount ?? 0) === 0) return { failedRecipients: 0 };
  const error = `planning gave up after ${ctx.deliveryCount} deliveries: ${reason}`.slice(0, 500);
  let failed = 0;
  for (;;) {
    const n = await failQueuedRecipients(deps.db, { batchId: body.batchId, error });
    failed += n;
    if (n === 0) break;
  }
  await completeIfDone(deps.db, body.batchId);
  ctx.log.warn({ failed, reason }, "plan dead-lettered; queued recipients failed");
  return { failedRecipients: failed };
}
