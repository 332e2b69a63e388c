/** listDomains / getDomain / deleteDomain: the caller's domains in its mode. */
import { and, asc, eq, gt, ne } from "drizzle-orm";
import { auditLog, sendingDomains } from "../../../core/db/schema";
import type { DomainIdentities } from "../../adapters/domain-identities";
import type { ServiceCtx } from "../service-ctx";
import { domainScope, loadScopedDomain, toDomainView, type DomainView } from "./domain-view";

export interface DomainList {
  data: DomainView[];
  hasMore: boolean;
  nextCursor: string | null;
}

export async function listDomains({ ctx, input }: { ctx: ServiceCtx; input: { limit: number; starting_after?: string } }): Promise<DomainList> {
  // A cursor must be one of the caller's own domains (Stripe: "No such object"): a 404 otherwise.
  const after = input.starting_after ? (await loadScopedDomain(ctx.db, ctx, input.starting_after)).id : undefined;
  const rows = await ctx.db
    .select()
    .from(sendingDomains)
    .where(and(domainScope(ctx), after ? gt(sendingDomains.id, after) : undefined))
    .orderBy(asc(sendingDomains.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const hasMore = rows.length > input.limit;
  return { data: page.map(toDomainView), hasMore, nextCursor: hasMore ? page[page.length - 1]!.id : null };
}

export async function getDomain({ ctx, input }: { ctx: ServiceCtx; input: { domainId: string } }): Promise<DomainView> {
  return toDomainView(await loadScopedDomain(ctx.db, ctx, input.domainId));
}

/**
 * Removes the claim; the provider identity goes too unless another row (the same tenant's other mode) still
 * uses it. Provider first: if it fails the claim stays and the caller can retry.
 */
export async function deleteDomain({ ctx, input, identities }: { ctx: ServiceCtx; input: { domainId: string }; identities: DomainIdentities }): Promise<void> {
  const row = await loadScopedDomain(ctx.db, ctx, input.domainId);
  const [shared] = await ctx.db
    .select({ id: sendingDomains.id })
    .from(sendingDomains)
    .where(and(eq(sendingDomains.domain, row.domain), eq(sendingDomains.provider, row.provider), ne(sendingDomains.id, row.id)))
    .limit(1);
  if (!shared && row.providerRef) await identities.remove(row.providerRef);
  await ctx.db.delete(sendingDomains).where(eq(sendingDomains.id, row.id));
  await ctx.db.insert(auditLog).values({ tenantId: ctx.tenantId, actor: ctx.actor, action: "domain.deleted", targetType: "sending_domain", targetId: row.id, data: { domain: row.domain }, requestId: ctx.requestId ?? null });
}
