/**
 * createSendConfig / updateSendConfig. BYOK credentials are sealed with the envelope scheme
 * (core/domain/crypto.ts), bound to tenant, config id and provider, and only their masked form is kept
 * readable. Rotation is an update: same id, new ciphertext, `updated_at` bumped so the consumers' client cache
 * (keyed by id and version) rebuilds at once. Making a config the default clears the channel's previous
 * default in the same transaction (the partial unique index is the backstop).
 */
import { and, eq, ne } from "drizzle-orm";
import { auditLog, sendConfigs, type SendConfig } from "../../../core/db/schema";
import { maskCredentials } from "../../../core/domain/byok";
import { sealSecret } from "../../../core/domain/crypto";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { SealingKey } from "../../adapters/sealing-key";
import type { ServiceCtx } from "../service-ctx";
import { sendConfigProblems, type CreateSendConfigInput, type UpdateSendConfigInput } from "./send-config-input";
import { loadScopedSendConfig, sendConfigScope, toSendConfigView, type SendConfigView } from "./send-config-view";

function refuse(errors: { path: string; message: string }[]): never {
  throw new AppError("validation_failed", `${errors[0]!.path}: ${errors[0]!.message}`, { errors });
}

async function sealed(credentials: Record<string, string>, key: SealingKey, binding: { tenantId: string; configId: string; provider: string }) {
  return {
    credentialsCiphertext: await sealSecret(JSON.stringify(credentials), key.key, key.id, binding),
    credentialsKeyId: key.id,
    credentialsMasked: maskCredentials(credentials),
  };
}

async function clearDefault(tx: Executor, tenantId: string, channel: SendConfig["channel"], keep: string) {
  await tx
    .update(sendConfigs)
    .set({ isDefault: false, updatedAt: new Date() })
    .where(and(sendConfigScope(tenantId), eq(sendConfigs.channel, channel), eq(sendConfigs.isDefault, true), ne(sendConfigs.id, keep)));
}

export async function createSendConfig({ ctx, input, sealingKey }: { ctx: ServiceCtx; input: CreateSendConfigInput; sealingKey: () => Promise<SealingKey> }): Promise<SendConfigView> {
  const errors = sendConfigProblems(input, true);
  if (errors.length) refuse(errors);
  const id = crypto.randomUUID();
  const secret = input.mode === "byok" && input.credentials ? await sealed(input.credentials, await sealingKey(), { tenantId: ctx.tenantId, configId: id, provider: input.provider }) : {};
  const row = await ctx.db.transaction(async (tx) => {
    if (input.isDefault) await clearDefault(tx, ctx.tenantId, input.channel, id);
    const [inserted] = await tx
      .insert(sendConfigs)
      .values({
        id,
        tenantId: ctx.tenantId,
        name: input.name,
        channel: input.channel,
        mode: input.mode,
        provider: input.provider,
        defaults: input.defaults,
        rateLimitPerSecond: input.rateLimitPerSecond ?? null,
        isDefault: input.isDefault,
        ...secret,
      })
      .returning();
    await tx.insert(auditLog).values({ tenantId: ctx.tenantId, actor: ctx.actor, action: "send_config.created", targetType: "send_config", targetId: id, data: { provider: input.provider, mode: input.mode }, requestId: ctx.requestId ?? null });
    return inserted!;
  });
  return toSendConfigView(row);
}

export async function updateSendConfig({
  ctx,
  input,
  sealingKey,
}: {
  ctx: ServiceCtx;
  input: { configId: string; patch: UpdateSendConfigInput };
  sealingKey: () => Promise<SealingKey>;
}): Promise<SendConfigView> {
  const current = await loadScopedSendConfig(ctx.db, ctx.tenantId, input.configId);
  const p = input.patch;
  const next = {
    channel: current.channel,
    mode: current.mode,
    provider: current.provider,
    defaults: p.defaults ?? (current.defaults as never),
    rateLimitPerSecond: p.rateLimitPerSecond === undefined ? current.rateLimitPerSecond : p.rateLimitPerSecond,
    credentials: p.credentials,
  };
  const errors = sendConfigProblems(next, false);
  if (errors.length) refuse(errors);
  const secret = p.credentials ? await sealed(p.credentials, await sealingKey(), { tenantId: ctx.tenantId, configId: current.id, provider: current.provider }) : {};
  const row = await ctx.db.transaction(async (tx) => {
    if (p.isDefault) await clearDefault(tx, ctx.tenantId, current.channel, current.id);
    const [updated] = await tx
      .update(sendConfigs)
      .set({
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(p.defaults !== undefined ? { defaults: p.defaults } : {}),
        ...(p.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: p.rateLimitPerSecond } : {}),
        ...(p.isDefault !== undefined ? { isDefault: p.isDefault } : {}),
        ...secret,
        updatedAt: new Date(),
      })
      .where(and(sendConfigScope(ctx.tenantId), eq(sendConfigs.id, current.id)))
      .returning();
    if (!updated) throw new AppError("not_found", `Send config ${current.id} not found`);
    const action = p.credentials ? "send_config.credentials_rotated" : "send_config.updated";
    await tx.insert(auditLog).values({ tenantId: ctx.tenantId, actor: ctx.actor, action, targetType: "send_config", targetId: current.id, data: { fields: Object.keys(p) }, requestId: ctx.requestId ?? null });
    return updated;
  });
  return toSendConfigView(row);
}
