/**
 * createBatch: validate, normalise and dedupe recipients, resolve the send config, parse templates, then
 * insert the batch (status `draft`) and all its recipients in ONE transaction — recipients through
 * recipient-rows.ts (one `INSERT … SELECT … FROM unnest(…)` that marks suppressed addresses and sets the counters).
 * Quotas (active batches, pending recipients) are checked in that transaction, after the rows are written.
 * Retries are made safe by the Idempotency-Key middleware (edge/middleware/idempotency.ts), not here.
 */
import { and, eq, isNull } from "drizzle-orm";
import { auditLog, batches, sendConfigs, tenants, type Batch } from "../../../core/db/schema";
import { Region } from "../../../core/contract";
import type { SmsSegments } from "../../../core/domain/limits";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import { assertCapacity } from "../quotas";
import type { ServiceCtx } from "../service-ctx";
import { assertVerifiedSender } from "../domains/sender-domain";
import { toBatchView, type BatchView } from "./batch-view";
import type { CreateBatchInput } from "./create-batch-input";
import { buildPayload } from "./message-rules";
import { insertRecipients, normalizeRecipients } from "./recipient-rows";

export type CreatedBatch = BatchView & { duplicatesRemoved: number; smsSegments?: SmsSegments };

async function resolveSendConfig(db: Executor, tenantId: string, channel: Batch["channel"], id: string | undefined) {
  // A deleted config (issue 8, soft delete) is not usable any more.
  const where = id
    ? and(eq(sendConfigs.tenantId, tenantId), eq(sendConfigs.id, id), isNull(sendConfigs.deletedAt))
    : and(eq(sendConfigs.tenantId, tenantId), eq(sendConfigs.channel, channel), eq(sendConfigs.isDefault, true), isNull(sendConfigs.deletedAt));
  const [config] = await db.select().from(sendConfigs).where(where).limit(1);
  if (!config && id) throw new AppError("not_found", `Send config ${id} not found`);
  if (!config) {
    throw new AppError("validation_failed", `No default ${channel} send config: create one or pass sendConfigId`, {
      errors: [{ path: "sendConfigId", message: `no default ${channel} send config` }],
    });
  }
  if (config.channel !== channel) {
    throw new AppError("validation_failed", `Send config ${config.id} is for ${config.channel}, not ${channel}`, {
      errors: [{ path: "sendConfigId", message: `send config channel is ${config.channel}` }],
    });
  }
  return config;
}

export async function createBatch({
  ctx,
  input,
}: {
  ctx: ServiceCtx;
  input: { body: CreateBatchInput };
}): Promise<CreatedBatch> {
  const { db, tenantId } = ctx;
  const body = input.body;

  const sendConfig = await resolveSendConfig(db, tenantId, body.channel, body.sendConfigId);
  const { payload, smsSegments } = buildPayload(body, sendConfig.defaults as Record<string, unknown>);
  await assertVerifiedSender(db, { tenantId, mode: ctx.mode, config: sendConfig, from: payload.channel === "email" ? payload.from : undefined });
  const { rows: seen, duplicatesRemoved } = normalizeRecipients(
    body.channel,
    body.recipients,
    payload.channel === "webhook" ? payload.url : undefined,
  );

  const [tenant] = await db.select({ defaultRegion: tenants.defaultRegion }).from(tenants).where(eq(tenants.id, tenantId));
  const tenantRegion = Region.safeParse(tenant?.defaultRegion);
  const region = body.region ?? (tenantRegion.success ? tenantRegion.data : ctx.defaultRegion);

  const batch = await db.transaction(async (tx): Promise<Batch> => {
      const [inserted] = await tx
        .insert(batches)
        .values({
          tenantId,
          sendConfigId: sendConfig.id,
          name: body.name,
          channel: body.channel,
          payload,
          status: "draft",
          scheduledAt: body.scheduledAt ? new Date(body.scheduledAt) : null,
          dryRun: ctx.mode === "test" ? true : (body.dryRun ?? false),
          mode: ctx.mode,
          region,
          traceId: ctx.traceId,
        })
        .returning({ id: batches.id });
      const batchId = inserted!.id;
      const { added, suppressed } = await insertRecipients(tx, { batchId, tenantId, channel: body.channel }, seen);
      await assertCapacity(tx, tenantId, { batches: 1, recipients: added - suppressed });
      await tx.insert(auditLog).values({
        tenantId,
        actor: ctx.actor,
        action: "batch.created",
        targetType: "batch",
        targetId: batchId,
        data: { duplicatesRemoved, recipients: seen.size, ...(smsSegments ? { smsSegments } : {}) },
        requestId: ctx.requestId ?? null,
      });
      const [row] = await tx.select().from(batches).where(eq(batches.id, batchId));
      return row!;
    });
  return { ...toBatchView(batch), duplicatesRemoved, ...(smsSegments ? { smsSegments } : {}) };
}
