/**
 * Sender (`send.<region>.<channel>`): one chunk message = claim → provider calls (send-calls.ts) → ack.
 * Retry policy in one place:
 * - retryable outcomes: rows released to `queued`, message `nak(backoff + jitter)`;
 * - rows held by another live claim: `nak` until that lease would have run out, so a crashed owner's rows
 *   are re-sent by this chunk's redelivery (never stranded in `sending`);
 * - last allowed delivery (`deliveryCount >= maxDeliver`): the chunk goes to `dlq.<subject>`, its unfinished
 *   rows become `failed` with the reason (counters too), then ack — never left `queued`.
 * A heartbeat (`working()` + lease extension) runs for the whole chunk so long token waits or slow providers
 * never cause a redelivery while the chunk is still being worked on.
 */
import { randomUUID } from "node:crypto";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { DeadLetterMessage, SendChunkMessage, subjects, TRACE_HEADER } from "../../core/contract";
import { ProviderConfigError, type ProviderRegistry, type SendConfigRow } from "../providers/registry";
import { runProviderCalls, type CallDeps, type ChunkContext } from "./send-calls";
import { claimRecipients, completeIfDone, extendLease, heldElsewhere, isDone, recordResults, releaseClaims } from "./recipient-store";

export interface SendDeps extends CallDeps {
  js: JetStreamClient;
  providers: ProviderRegistry;
  maxDeliver: number;
  heartbeatMs?: number;
}

export type ChunkResult = "ack" | "nak" | "dlq" | "term";

interface BatchRow extends SendConfigRow {
  batch_id: string;
  tenant_id: string;
  status: string;
  payload: unknown;
  dry_run: boolean;
  defaults: Record<string, unknown>;
  rate_limit_per_second: number | null;
}

/** Backoff for a nak'ed chunk: exponential in the delivery count, capped at 60 s, half jitter. */
export function nakDelayMs(deliveryCount: number, retryAfterMs = 0): number {
  const exp = Math.min(60_000, 1000 * 2 ** Math.max(0, deliveryCount - 1));
  return Math.round(Math.max(retryAfterMs, exp / 2 + Math.random() * (exp / 2)));
}

export async function handleSendChunk(deps: SendDeps, msg: JsMsg): Promise<ChunkResult> {
  const traceId = msg.headers?.get(TRACE_HEADER) || undefined;
  let body: SendChunkMessage;
  try {
    body = SendChunkMessage.parse(JSON.parse(new TextDecoder().decode(msg.data)));
  } catch (err) {
    deps.log.error({ traceId, subject: msg.subject, err: (err as Error).message }, "malformed send chunk; terminated");
    msg.term("malformed");
    return "term";
  }
  const log = deps.log.child({ traceId, batchId: body.batchId });
  const last = msg.info.deliveryCount >= deps.maxDeliver;
  const found = await deps.db.query<BatchRow>(
    `select b.id as batch_id, b.tenant_id, b.status, b.payload, b.dry_run,
            sc.id, sc.mode, sc.provider, sc.defaults, sc.rate_limit_per_second,
            sc.credentials_ciphertext, sc.credentials_key_id, sc.updated_at
       from batches b join send_configs sc on sc.id = b.send_config_id
      where b.id = $1 and b.tenant_id = $2`,
    [body.batchId, body.tenantId],
  );
  const row = found.rows[0];
  if (!row) {
    log.warn("send chunk for unknown batch; dropped");
    msg.ack();
    return "ack";
  }
  const token = randomUUID();
  const scope = { batchId: body.batchId, ids: body.recipientIds, token, generation: body.generation };
  const heartbeat = setInterval(() => {
    msg.working();
    extendLease(deps.db, { batchId: body.batchId, token }).catch((err) => log.warn({ err: (err as Error).message }, "lease extension failed"));
  }, deps.heartbeatMs ?? 10_000);
  try {
    const end = deps.metrics.claimSeconds.startTimer();
    const claimed = await claimRecipients(deps.db, scope);
    end();
    let retryIds: number[] = [];
    let reason = "";
    let retryAfterMs = 0;
    if (claimed.length > 0) {
      let ctx: ChunkContext;
      try {
        ctx = {
          token,
          working: () => msg.working(),
          client: await deps.providers.clientFor(row),
          batch: {
            id: row.batch_id,
            tenantId: row.tenant_id,
            payload: row.payload,
            defaults: row.defaults,
            dryRun: row.dry_run,
            sendConfig: { id: row.id, mode: row.mode, rateLimitPerSecond: row.rate_limit_per_second },
          },
        };
      } catch (err) {
        if (!(err instanceof ProviderConfigError)) throw err;
        // A broken send config will not heal by retrying: fail these recipients with the reason.
        const counters = await recordResults(deps.db, { batchId: body.batchId, token, results: claimed.map((r) => ({ id: r.id, status: "failed" as const, error: err.message })) });
        if (isDone(counters)) await completeIfDone(deps.db, body.batchId);
        msg.ack();
        return "ack";
      }
      const res = await runProviderCalls({ ...deps, log }, ctx, claimed);
      if (res.interrupted === "shutdown") {
        // Claims already released; hand the chunk to another consumer right away.
        msg.nak();
        return "nak";
      }
      if (res.interrupted === "paused") {
        // Claims released. Keep the chunk alive (its rows are in no other chunk of this plan generation): if
        // the pause was real, the redelivery claims nothing and acks; if the status read was stale (a resume
        // landed meanwhile), it sends them.
        msg.nak(1000);
        return "nak";
      }
      retryIds = res.retryIds;
      reason = res.retryReason ?? "retryable provider error";
      retryAfterMs = res.retryAfterMs ?? 0;
    }

    if (retryIds.length > 0 && last) return await deadLetter(deps, msg, body, token, retryIds, reason, log);
    if (retryIds.length > 0) {
      await releaseClaims(deps.db, { batchId: body.batchId, token, ids: retryIds });
      const delay = nakDelayMs(msg.info.deliveryCount, retryAfterMs);
      log.info({ retry: retryIds.length, delay, reason, delivery: msg.info.deliveryCount }, "chunk retried later");
      msg.nak(delay);
      return "nak";
    }
    const held = await heldElsewhere(deps.db, scope);
    if (held.count > 0 && !last) {
      msg.nak(held.msUntilExpiry + 1000 + Math.round(Math.random() * 1000));
      return "nak";
    }
    if (held.count > 0) log.warn({ held: held.count }, "last delivery while rows are held by a live claim; leaving them to it");
    msg.ack();
    return "ack";
  } catch (err) {
    log.error({ err: (err as Error).message, stack: (err as Error).stack }, "send chunk failed");
    await releaseClaims(deps.db, { batchId: body.batchId, token }).catch(() => undefined);
    msg.nak(nakDelayMs(msg.info.deliveryCount));
    return "nak";
  } finally {
    clearInterval(heartbeat);
  }
}

async function deadLetter(
  deps: SendDeps,
  msg: JsMsg,
  body: SendChunkMessage,
  token: string,
  ids: number[],
  reason: string,
  log: SendDeps["log"],
): Promise<ChunkResult> {
  const dead: DeadLetterMessage = {
    subject: msg.subject,
    data: { ...body, unfinishedRecipientIds: ids },
    deliveries: msg.info.deliveryCount,
    reason,
    failedAt: new Date().toISOString(),
  };
  await deps.js.publish(subjects.dlq(msg.subject), JSON.stringify(dead), { headers: msg.headers });
  const error = `gave up after ${msg.info.deliveryCount} deliveries: ${reason}`.slice(0, 500);
  const counters = await recordResults(deps.db, { batchId: body.batchId, token, results: ids.map((id) => ({ id, status: "failed" as const, error })) });
  if (isDone(counters)) await completeIfDone(deps.db, body.batchId);
  deps.metrics.deadLettered.inc({ subject: msg.subject });
  log.warn({ failed: ids.length, reason }, "chunk dead-lettered; unfinished recipients failed");
  msg.ack();
  return "dlq";
}
