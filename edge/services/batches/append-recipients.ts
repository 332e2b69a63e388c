/**
 * appendRecipients: lists larger than one request (10,000) are built by appending to a draft batch. Same
 * validation, normalisation, dedupe and suppression rules as create (recipient-rows.ts); addresses the batch
 * already has are skipped and counted as duplicates; rows and counters change in one transaction.
 *
 * The batch row is locked `FOR UPDATE` first, whatever its status: a concurrent send waits for the append to
 * commit (so no recipient lands in a batch that is already queued), and appends to one batch run one at a
 * time. The pending-recipients quota is checked in the same transaction. Retries are made safe by the
 * Idempotency-Key middleware (edge/middleware/idempotency.ts).
 */
import { sql } from "drizzle-orm";
import { auditLog } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import { assertCapacity } from "../quotas";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView, type BatchView } from "./batch-view";
import type { AppendRecipientsInput } from "./create-batch-input";
import { assertBatchIdShape, loadScopedBatch } from "./scope";
import { insertRecipients, normalizeRecipients } from "./recipient-rows";

const ACTION = "batch.recipients_appended";

interface AppendCounts {
  added: number;
  /** Within the request plus addresses the batch already had. */
  duplicatesRemoved: number;
  suppressed: number;
}

export type AppendRecipientsResult = AppendCounts & { batch: BatchView };

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
    const locked = await tx.execute<{ status: string; channel: "email" | "sms" | "webhook"; url: string | null }>(sql`
      select status::text as status, channel::text as channel, payload->>'url' as url from batches
       where id = ${batchId}::uuid and tenant_id = ${tenantId}::uuid and mode = ${ctx.mode}::api_key_mode
       for update`);
    const batch = locked.rows[0];
    if (!batch) throw new AppError("not_found", `Batch ${batchId} not found`);
    if (batch.status !== "draft") {
      throw new AppError("conflict", `Cannot append recipients to a batch that is ${batch.status}`);
    }
    const { rows } = normalizeRecipients(batch.channel, body.recipients, batch.channel === "webhook" ? (batch.url ?? undefined) : undefined);
    const { added, suppressed } = await insertRecipients(tx, { batchId, tenantId, channel: batch.channel }, rows);
    await assertCapacity(tx, tenantId, { batches: 0, recipients: added - suppressed });
    const counts: AppendCounts = { added, duplicatesRemoved: body.recipients.length - added, suppressed };
    await tx.insert(auditLog).values({
      tenantId,
      actor: ctx.actor,
      action: ACTION,
      targetType: "batch",
      targetId: batchId,
      data: { ...counts },
      requestId: ctx.requestId ?? null,
    });
    return { ...counts, batch: toBatchView(await loadScopedBatch(tx, ctx, batchId)) };
  });
}
