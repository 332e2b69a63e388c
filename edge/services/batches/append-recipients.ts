/**
 * appendRecipients: lists larger than one request (10,000) are built by appending to a draft batch. Same
 * validation, normalisation, dedupe and suppression rules as create (recipient-rows.ts); addresses the batch
 * already has are skipped and counted as duplicates; rows and counters change in one transaction.
 *
 * The batch row is locked first (lockDraftBatch): a concurrent send waits for the append to commit (so no
 * recipient lands in a batch that is already queued), and appends to one batch run one at a time. The
 * pending-recipients quota is checked in the same transaction (finishAppend). Retries are made safe by the
 * Idempotency-Key middleware (edge/middleware/idempotency.ts). Streamed NDJSON/CSV bodies: stream-recipients.ts.
 */
import { sql } from "drizzle-orm";
import { auditLog } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import { assertCapacity } from "../quotas";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView, type BatchView } from "./batch-view";
import type { AppendRecipientsInput } from "./create-batch-input";
import { assertBatchIdShape, loadScopedBatch } from "./scope";
import { insertRecipients, normalizeRecipients } from "./recipient-rows";


export interface AppendCounts {
  added: number;
  /** Within the request plus addresses the batch already had. */
  duplicatesRemoved: number;
  suppressed: number;
  /** Streamed uploads only: rows refused (a JSON append is all-or-nothing). */
  rejected: number;
}

/** A refused row of a streamed upload: its line in the body, the field (if one) and why. */
export interface RowError {
  line: number;
  path?: string;
  message: string;
}

export type AppendRecipientsResult = AppendCounts & { errors: RowError[]; batch: BatchView };

/**
 * The draft, locked `FOR UPDATE` whatever its status: a concurrent send waits for the append to commit (so
 * no recipient lands in a batch that is already queued), and appends to one batch run one at a time.
 */
export async function lockDraftBatch(tx: Executor, ctx: ServiceCtx, batchId: string) {
  const locked = await tx.execute<{ status: string; channel: "email" | "sms" | "webhook"; url: string | null }>(sql`
    select status::text as status, channel::text as channel, payload->>'url' as url from batches
     where id = ${batchId}::uuid and tenant_id = ${ctx.tenantId}::uuid and mode = ${ctx.mode}::api_key_mode
     for update`);
  const batch = locked.rows[0];
  if (!batch) throw new AppError("not_found", `Batch ${batchId} not found`);
  if (batch.status !== "draft") {
    throw new AppError("conflict", `Cannot append recipients to a batch that is ${batch.status}`);
  }
  return batch;
}

export async function appendRecipients({
  ctx,
  input,
}: {
  ctx: ServiceCtx;
  input: { batchId: string; body: AppendRecipientsInput };
}): Promise<AppendRecipientsResult> {
  const { tenantId } = ctx;
  const { batchId, body } = input;
  assertBatchIdShape(batchId);

  return ctx.db.transaction(async (tx): Promise<AppendRecipientsResult> => {
    const batch = await lockDraftBatch(tx, ctx, batchId);
    const { rows } = normalizeRecipients(batch.channel, body.recipients, batch.channel === "webhook" ? (batch.url ?? undefined) : undefined);
    const { added, suppressed } = await insertRecipients(tx, { batchId, tenantId, channel: batch.channel }, rows);
    const counts: AppendCounts = { added, duplicatesRemoved: body.recipients.length - added, suppressed, rejected: 0 };
    return finishAppend(tx, ctx, batchId, counts, []);
  });
}

/** Both kinds of append end the same way: one audit row with the counts, and the batch as it is now. */
export async function finishAppend(
  tx: Executor,
  ctx: ServiceCtx,
  batchId: string,
  counts: AppendCounts,
  errors: RowError[],
): Promise<AppendRecipientsResult> {
  await assertCapacity(tx, ctx.tenantId, { batches: 0, recipients: counts.added - counts.suppressed });
  await tx.insert(auditLog).values({
    tenantId: ctx.tenantId,
    actor: ctx.actor,
    action: "batch.recipients_appended",
    targetType: "batch",
    targetId: batchId,
    data: { ...counts },
    requestId: ctx.requestId ?? null,
  });
  return { ...counts, errors, batch: toBatchView(await loadScopedBatch(tx, ctx, batchId)) };
}
