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
import { EmailPayload } from "../../../core/domain/payload";
import { AppError } from "../../../core/domain/problem";
import { pgErrorCode, type Executor } from "../../adapters/db";
import { validationError } from "../../http/problem";
import type { ServiceCtx } from "../service-ctx";
import { toBatchView, type BatchView } from "./batch-view";
import type { CreateBatchInput } from "./create-batch-input";
import { requestFingerprint } from "./fingerprint";
import { dedupeRecipients, insertRecipients } from "./recipient-rows";
import { assertTemplatesParse } from "./templates";

export type CreatedBatch = BatchView & { duplicatesRemoved: number };

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
  const data = (audit?.data ?? {}) as { fingerprint?: string; duplicatesRemoved?: number };
  if (data.fingerprint !== fingerprint) {
    throw new AppError("conflict", "This Idempotency-Key was already used with a different request body");
  }
  return { status: 200, batch: { ...toBatchView(batch), duplicatesRemoved: data.duplicatesRemoved ?? 0 } };
}

async function resolveSendConfig(db: Executor, tenantId: string, channel: string, id: string | undefined) {
  const where = id
    ? and(eq(sendConfigs.tenantId, tenantId), eq(sendConfigs.id, id))
    : and(eq(sendConfigs.tenantId, tenantId), eq(sendConfigs.channel, "email"), eq(sendConfigs.isDefault, true));
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
  const defaults = sendConfig.defaults as { from?: unknown; replyTo?: unknown };
  const from = body.message.from ?? (typeof defaults.from === "string" ? defaults.from : undefined);
  if (!from) {
    throw new AppError("validation_failed", "message.from is required (the send config has no default)", {
      errors: [{ path: "message.from", message: "required" }],
    });
  }
  const replyTo = body.message.replyTo ?? (typeof defaults.replyTo === "string" ? defaults.replyTo : undefined);
  const parsedPayload = EmailPayload.safeParse({ ...body.message, channel: "email", from, replyTo });
  if (!parsedPayload.success) throw validationError(parsedPayload.error, ["message"]);
  const payload = parsedPayload.data;
  assertTemplatesParse(payload);

  const { rows: seen, duplicatesRemoved } = dedupeRecipients(body.recipients);

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
          channel: "email",
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
      await insertRecipients(tx, { batchId, tenantId, channel: "email" }, seen);
      await tx.insert(auditLog).values({
        tenantId,
        actor: ctx.actor,
        action: "batch.created",
        targetType: "batch",
        targetId: batchId,
        data: { idempotencyKey: key ?? null, fingerprint, duplicatesRemoved, recipients: seen.size },
        requestId: ctx.requestId ?? null,
      });
      const [row] = await tx.select().from(batches).where(eq(batches.id, batchId));
      return row!;
    });
    return { status: 201, batch: { ...toBatchView(batch), duplicatesRemoved } };
  } catch (err) {
    // A concurrent request with the same Idempotency-Key won the insert: answer as its replay.
    if (key && pgErrorCode(err) === "23505") {
      const earlier = await replay(db, tenantId, key, fingerprint);
      if (earlier) return earlier;
    }
    throw err;
  }
}
