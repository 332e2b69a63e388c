/**
 * appendRecipients: lists larger than one request (10,000) are built by appending to a draft batch. Same
 * validation, normalisation, dedupe and suppression rules as create (recipient-rows.ts); addresses the batch
 * already has are skipped and counted as duplicates; rows and counters change in one transaction.
 *
 * The batch row is locked `FOR UPDATE` first, whatever its status: a concurrent send waits for the append to
 * commit (so no recipient lands in a batch that is already queued), and appends to one batch run one at a
 * time. That lock also makes `Idempotency-Key` race-free here: the key and its result live in the append's
 * audit row, and a repeat (same key, same body) replays the original result, even after the batch was sent.
 */
import { sql } from "drizzle-orm";
import { auditLog } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView, type BatchView } from "./batch-view";
import type { AppendRecipientsInput } from "./create-batch-input";
import { requestFingerprint } from "./fingerprint";
import { assertBatchId, loadBatch } from "./guards";
import { insertRecipients, normalizeRecipients } from "./recipient-rows";

const ACTION = "batch.recipients_appended";

interface AppendCounts {
  added: number;
  /** Within the request plus addresses the batch already had. */
  duplicatesRemoved: number;
  suppressed: number;
}

export type AppendRecipientsResult = AppendCounts & { batch: BatchView };

async function earlierAppend(tx: Executor, tenantId: string, batchId: string, key: string, fingerprint: string) {
  const res = await tx.execute<{ data: AppendCounts & { fingerprint?: string } }>(sql`
    select data from audit_log
     where tenant_id = ${tenantId}::uuid and target_type = 'batch' and target_id = ${batchId}
       and action = ${ACTION} and data->>'idempotencyKey' = ${key}
     limit 1`);
  const data = res.rows[0]?.data;
  if (!data) return undefined;
  if (data.fingerprint !== fingerprint) {
    throw new AppError("conflict", "This Idempotency-Key was already used with a different request body");
  }
  return { added: data.added, duplicatesRemoved: data.duplicatesRemoved, suppressed: data.suppressed };
}

export async function appendRecipients({
  ctx,
  input,
}: {
  ctx: ServiceCtx;
  input: { batchId: string; body: AppendRecipientsInput; idempotencyKey?: string };
}): Promise<AppendRecipientsResult> {
  const { tenantId } = ctx;
  const { batchId, body, idempotencyKey: key } = input;
  assertBatchId(batchId);
  const fingerprint = key ? await requestFingerprint(body) : null;

  return ctx.db.transaction(async (tx): Promise<AppendRecipientsResult> => {
    const locked = await tx.execute<{ status: string; channel: "email" | "sms" | "webhook"; url: string | null }>(sql`
      select status::text as status, channel::text as channel, payload->>'url' as url from batches
       where id = ${batchId}::uuid and tenant_id = ${tenantId}::uuid
       for update`);
    const batch = locked.rows[0];
    if (!batch) throw new AppError("not_found", `Batch ${batchId} not found`);
    if (key && fingerprint) {
      const earlier = await earlierAppend(tx, tenantId, batchId, key, fingerprint);
      if (earlier) return { ...earlier, batch: toBatchView(await loadBatch(tx, tenantId, batchId)) };
    }
    if (batch.status !== "draft") {
      throw new AppError("conflict", `Cannot append recipients to a batch that is ${batch.status}`);
    }
    const { rows } = normalizeRecipients(batch.channel, body.recipients, batch.channel === "webhook" ? (batch.url ?? undefined) : undefined);
    const { added, suppressed } = await insertRecipients(tx, { batchId, tenantId, channel: batch.channel }, rows);
    const counts: AppendCounts = { added, duplicatesRemoved: body.recipients.length - added, suppressed };
    await tx.insert(auditLog).values({
      tenantId,
      actor: ctx.actor,
      action: ACTION,
      targetType: "batch",
      targetId: batchId,
      data: { idempotencyKey: key ?? null, fingerprint, ...counts },
      requestId: ctx.requestId ?? null,
    });
    return { ...counts, batch: toBatchView(await loadBatch(tx, tenantId, batchId)) };
  });
}
