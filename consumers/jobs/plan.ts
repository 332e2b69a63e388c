/**
 * Planner (`batch.<region>.plan`): turns a queued batch into provider-sized chunks of recipient ids on
 * `send.<region>.<channel>`. Re-planning (redelivery, resume after pause) is harmless: chunks name ids, and
 * the sender's guarded claim skips rows that are already terminal or held by a live claim.
 */
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { Logger } from "pino";
import { PlanBatchMessage as PlanBatchMessageSchema, SendChunkMessage, subjects, TRACE_HEADER, type PlanBatchMessage, type Region } from "../../core/contract";
import { CHUNK_SIZE, chunk, type ProviderName } from "./chunking";
import { completeIfDone, type Db } from "./recipient-store";

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

/** NATS handler: parse, plan, ack after the publishes; nak with backoff on errors, DLQ on the last delivery. */
export async function handlePlanMessage(deps: PlanDeps & { maxDeliver: number }, msg: JsMsg): Promise<void> {
  const traceId = msg.headers?.get(TRACE_HEADER) || undefined;
  const log = deps.log.child({ traceId });
  let body: PlanBatchMessage;
  try {
    body = PlanBatchMessageSchema.parse(JSON.parse(new TextDecoder().decode(msg.data)));
  } catch (err) {
    log.error({ err: (err as Error).message }, "malformed plan message; terminated");
    msg.term("malformed");
    return;
  }
  const heartbeat = setInterval(() => msg.working(), 10_000);
  try {
    const res = await planBatch({ ...deps, log: log.child({ batchId: body.batchId }), heartbeat: () => msg.working() }, body, traceId);
    if (res.kind === "skipped") log.info({ batchId: body.batchId, reason: res.reason }, "plan skipped");
    msg.ack();
  } catch (err) {
    log.error({ batchId: body.batchId, err: (err as Error).message }, "planning failed");
    if (msg.info.deliveryCount >= deps.maxDeliver) {
      const dead = { subject: msg.subject, data: body, deliveries: msg.info.deliveryCount, reason: (err as Error).message, failedAt: new Date().toISOString() };
      await deps.js.publish(subjects.dlq(msg.subject), JSON.stringify(dead), { headers: msg.headers }).then(
        () => msg.ack(),
        () => msg.nak(30_000),
      );
    } else {
      msg.nak(Math.min(60_000, 1000 * 2 ** (msg.info.deliveryCount - 1)));
    }
  } finally {
    clearInterval(heartbeat);
  }
}
