/** listSendConfigs / getSendConfig / deleteSendConfig. */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { auditLog, sendConfigs } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { ServiceCtx } from "../service-ctx";
import { loadScopedSendConfig, sendConfigScope, toSendConfigView, type SendConfigView } from "./send-config-view";

export interface SendConfigList {
  data: SendConfigView[];
  hasMore: boolean;
  nextCursor: string | null;
}

export async function listSendConfigs({ ctx, input }: { ctx: ServiceCtx; input: { limit: number; starting_after?: string; channel?: "email" | "sms" | "webhook" } }): Promise<SendConfigList> {
  // A cursor must be one of the caller's own configs (Stripe: "No such object"): a 404 otherwise.
  const after = input.starting_after ? (await loadScopedSendConfig(ctx.db, ctx.tenantId, input.starting_after)).id : undefined;
  const rows = await ctx.db
    .select()
    .from(sendConfigs)
    .where(and(sendConfigScope(ctx.tenantId), after ? gt(sendConfigs.id, after) : undefined, input.channel ? eq(sendConfigs.channel, input.channel) : undefined))
    .orderBy(asc(sendConfigs.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const hasMore = rows.length > input.limit;
  return { data: page.map(toSendConfigView), hasMore, nextCursor: hasMore ? page[page.length - 1]!.id : null };
}

export async function getSendConfig({ ctx, input }: { ctx: ServiceCtx; input: { configId: string } }): Promise<SendConfigView> {
  return toSendConfigView(await loadScopedSendConfig(ctx.db, ctx.tenantId, input.configId));
}

/**
 * Soft delete (finished batches keep referencing the row): refused with 409 while an unfinished batch (draft,
 * scheduled, queued, processing, paused) uses it. The check and the delete are one statement. Known gap: a
 * createBatch that read the config just before the delete can still insert its draft after it; that draft's
 * send then fails on the deleted config instead of the delete answering 409.
 */
export async function deleteSendConfig({ ctx, input }: { ctx: ServiceCtx; input: { configId: string } }): Promise<void> {
  const row = await loadScopedSendConfig(ctx.db, ctx.tenantId, input.configId);
  const res = await ctx.db.execute<{ id: string }>(sql`
    update send_configs set deleted_at = now(), is_default = false, updated_at = now()
     where id = ${row.id}::uuid and tenant_id = ${ctx.tenantId}::uuid and deleted_at is null
       and not exists (select 1 from batches b where b.send_config_id = ${row.id}::uuid
                        and b.status in ('draft', 'scheduled', 'queued', 'processing', 'paused'))
    returning id`);
  if (!res.rows[0]) {
    const [{ n } = { n: 0 }] = (
      await ctx.db.execute<{ n: number }>(sql`select count(*)::int as n from batches where send_config_id = ${row.id}::uuid and status in ('draft', 'scheduled', 'queued', 'processing', 'paused')`)
    ).rows;
    throw new AppError("conflict", `Send config ${row.id} is used by ${n} unfinished batch${n === 1 ? "" : "es"}; finish or cancel them first`);
  }
  await ctx.db.insert(auditLog).values({ tenantId: ctx.tenantId, actor: ctx.actor, action: "send_config.deleted", targetType: "send_config", targetId: row.id, data: {}, requestId: ctx.requestId ?? null });
}
