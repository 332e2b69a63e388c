/**
 * addSuppression / getSuppression / removeSuppression: one address at a time. Adding an address already on
 * the list keeps the first entry (its reason and source say why it was suppressed first) and reports
 * `created: false`, so retries are harmless.
 */
import { and, eq } from "drizzle-orm";
import { suppressions } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { SuppressionReason } from "../../../core/domain/suppressions";
import type { ServiceCtx } from "../service-ctx";
import { normalizedOrThrow, suppressionScope, toSuppressionView, type Channel, type SuppressionView } from "./suppression-view";

export interface AddSuppressionInput {
  channel: Channel;
  address: string;
  reason: SuppressionReason;
}

export async function addSuppression({ ctx, input }: { ctx: ServiceCtx; input: AddSuppressionInput }): Promise<{ created: boolean; suppression: SuppressionView }> {
  const address = normalizedOrThrow(input.channel, input.address);
  const inserted = await ctx.db
    .insert(suppressions)
    .values({ tenantId: ctx.tenantId, mode: ctx.mode, channel: input.channel, address, reason: input.reason, source: ctx.actor })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { created: true, suppression: toSuppressionView(inserted[0]) };
  return { created: false, suppression: await getSuppression({ ctx, input: { channel: input.channel, address } }) };
}

function byAddress(ctx: ServiceCtx, channel: Channel, raw: string) {
  // An address that does not normalise cannot be on the list: 404, like any absent entry.
  let address: string;
  try {
    address = normalizedOrThrow(channel, raw);
  } catch {
    throw new AppError("not_found", "No such suppression");
  }
  return and(suppressionScope(ctx), eq(suppressions.channel, channel), eq(suppressions.address, address))!;
}

export async function getSuppression({ ctx, input }: { ctx: ServiceCtx; input: { channel: Channel; address: string } }): Promise<SuppressionView> {
  const [row] = await ctx.db.select().from(suppressions).where(byAddress(ctx, input.channel, input.address));
  if (!row) throw new AppError("not_found", "No such suppression");
  return toSuppressionView(row);
}

/** Later sends to the address go out again; recipients already marked `suppressed` stay so. */
export async function removeSuppression({ ctx, input }: { ctx: ServiceCtx; input: { channel: Channel; address: string } }): Promise<SuppressionView> {
  const [row] = await ctx.db.delete(suppressions).where(byAddress(ctx, input.channel, input.address)).returning();
  if (!row) throw new AppError("not_found", "No such suppression");
  return toSuppressionView(row);
}
