/**
 * updateEndpoint (URL, description, event filter, enable/disable) and deleteEndpoint. Enabling an endpoint
 * that was disabled (by hand or for failing) clears its failure count, so delivery starts afresh; disabling
 * it by hand records `manual` as the reason. Deleting drops its delivery log with it.
 */
import { and, eq } from "drizzle-orm";
import { webhookEndpoints } from "../../../core/db/schema";
import type { ServiceCtx } from "../service-ctx";
import { assertEndpointUrl, endpointScope, loadEndpoint, notFound, toEndpointView, type EndpointDeps, type EndpointView } from "./endpoint-view";

export interface UpdateEndpointInput {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  enabled?: boolean;
}

export async function updateEndpoint({
  ctx,
  input,
  deps,
}: {
  ctx: ServiceCtx;
  input: { id: string; patch: UpdateEndpointInput };
  deps: Pick<EndpointDeps, "allowedHosts">;
}): Promise<EndpointView> {
  const { patch } = input;
  if (patch.url !== undefined) assertEndpointUrl(patch.url, deps.allowedHosts);
  const current = await loadEndpoint(ctx.db, ctx, input.id);
  const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: new Date() };
  if (patch.url !== undefined) set.url = new URL(patch.url).href;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.eventTypes !== undefined) set.eventTypes = [...new Set(patch.eventTypes)].sort();
  if (patch.enabled === true && !current.enabled) Object.assign(set, { enabled: true, disabledReason: null, disabledAt: null, consecutiveFailures: 0 });
  if (patch.enabled === false && current.enabled) Object.assign(set, { enabled: false, disabledReason: "manual", disabledAt: new Date() });
  const [row] = await ctx.db
    .update(webhookEndpoints)
    .set(set)
    .where(and(endpointScope(ctx), eq(webhookEndpoints.id, current.id)))
    .returning();
  if (!row) throw notFound(input.id);
  return toEndpointView(row);
}

export async function deleteEndpoint({ ctx, input }: { ctx: ServiceCtx; input: { id: string } }): Promise<{ object: "webhook_endpoint"; id: string; deleted: true }> {
  const current = await loadEndpoint(ctx.db, ctx, input.id);
  const [row] = await ctx.db
    .delete(webhookEndpoints)
    .where(and(endpointScope(ctx), eq(webhookEndpoints.id, current.id)))
    .returning({ id: webhookEndpoints.id });
  if (!row) throw notFound(input.id);
  return { object: "webhook_endpoint", id: row.id, deleted: true };
}
