/**
 * createBatch: validate, normalise and dedupe recipients, resolve the send config, parse templates, then
 * insert the batch (status `draft`) and all its recipients in ONE transaction — recipients through
 * recipient-rows.ts (one `INSERT … SELECT … FROM unnest(…)` that marks suppressed addresses and sets the counters).
 *
 * Idempotency: the request fingerprint is recorded in the batch's `batch.created` audit row. The same
 * `Idempotency-Key` with the same body returns the original batch (200); with another body, 409. The
 * unique index (tenant_id, idempotency_key) settles concurrent first requests.
 */
import { and, eq } from "drizzle-orm";
import { auditLog, batches, sendConfigs, tenants, type Batch } from "../../../core/db/schema";
import { Region } from "../../../core/contract";
import type { SmsSegments } from "../../../core/domain/limits";
import { AppError } from "../../../core/domain/problem";
import { pgErrorCode, type Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView, type BatchView } from "./batch-view";
import type { CreateBatchInput } from "./create-batch-input";
import { requestFingerprint } from "./fingerprint";
import { buildPayload } from "./message-rules";
import { insertRecipients, normalizeRecipients } from "./recipient-rows";

export type CreatedBatch = BatchView & { duplicatesRemoved: number; smsSegments?: SmsSegments };

export interface CreateBatchResult {
  /** 201 for a new batch, 200 for an idempotent replay. */
  status: 200 | 201;
  batch: CreatedBatch;
}

async function replay(db: Executor, tenantId: string, key: string, fingerprint: string): Promise<CreateBatchResult | undefined> {
  const [batch] = await db.select().from(batches).where(and(eq(batches.tenantId, tenantId), eq(batches.idempotencyKey, key)));
  if (!batch) return undefined;
  const [audit] = await db
    .select({ data: auditLog.data })
    .from(auditLog)
    .where(and(eq(auditLog.tenantId, tenantId), eq(auditLog.targetType, "batch"), eq(auditLog.targetId, batch.id), eq(auditLog.action, "batch.created")));
  const data = (audit?.data ?? {}) as { fingerprint?: string; duplicatesRemoved?: number; smsSegments?: SmsSegments };
  if (data.fingerprint !== fingerprint) {
    throw new AppError("conflict", "This Idempotency-Key was already used with a different request body");
  }
  const smsSegments = data.smsSegments ? { smsSegments: data.smsSegments } : {};
  return { status: 200, batch: { ...toBatchView(batch), duplicatesRemoved: data.duplicatesRemoved ?? 0, ...smsSegments } };
}

async function resolveSendConfig(db: Executor, tenantId: string, channel: Batch["channel"], id: string | undefined) {
  const where = id
    ? and(eq(sendConfigs.tenantId, tenantId), eq(sendConfigs.id, id))
    : and(eq(sendConfigs.tenantId, tenantId), eq(sendConfigs.channel, channel), eq(sendConfigs.isDefault, true));
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
  input: { body: CreateBatchInput; idempotencyKey?: string };
}): Promise<CreateBatchResult> {
  const { db, tenantId } = ctx;
  const body = input.body;
  const key = input.idempotencyKey;
  const fingerprint = await requestFingerprint(body);
  if (key) {
    const earlier = await replay(db, tenantId, key, fingerprint);
    if (earlier) return earlier;
  }

  const sendConfig = await resolveSendConfig(db, tenantId, body.channel, body.sendConfigId);
  const { payload, smsSegments } = buildPayload(body, sendConfig.defaults as Record<string, unknown>);
  const { rows: seen, duplicatesRemoved } = normalizeRecipients(
    body.channel,
    body.recipients,
    payload.channel === "webhook" ? payload.url : undefined,
  );

  const [tenant] = await db.select({ defaultRegion: tenants.defaultRegion }).from(tenants).where(eq(tenants.id, tenantId));
  const tenantRegion = Region.safeParse(tenant?.defaultRegion);
  const region = body.region ?? (tenantRegion.success ? tenantRegion.data : ctx.defaultRegion);

  try {
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
          idempotencyKey: key ?? null,
          region,
          traceId: ctx.traceId,
        })
        .returning({ id: batches.id });
      const batchId = inserted!.id;
      await insertRecipients(tx, { batchId, tenantId, channel: body.channel }, seen);
      await tx.insert(auditLog).values({
        tenantId,
        actor: ctx.actor,
        action: "batch.created",
        targetType: "batch",
        targetId: batchId,
        data: { idempotencyKey: key ?? null, fingerprint, duplicatesRemoved, recipients: seen.size, ...(smsSegments ? { smsSegments } : {}) },
        requestId: ctx.requestId ?? null,
      });
      const [row] = await tx.select().from(batches).where(eq(batches.id, batchId));
      return row!;
    });
    return { status: 201, batch: { ...toBatchView(batch), duplicatesRemoved, ...(smsSegments ? { smsSegments } : {}) } };
  } catch (err) {
    // A concurrent request with the same Idempotency-Key won the insert: answer as its replay.
    if (key && pgErrorCode(err) === "23505") {
      const earlier = await replay(db, tenantId, key, fingerprint);
      if (earlier) return earlier;
    }
    throw err;
  }
}
