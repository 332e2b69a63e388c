/**
 * addDomain: claim a domain for the caller's tenant, then create its identity on the managed provider account
 * and store the DNS records it asks for. The claim is taken under a transaction-scoped advisory lock on the
 * name, so two tenants adding the same domain at once cannot both win: a name held by another tenant (in any
 * mode, verified or not) is a 409, as is the same tenant adding it twice. The provider call happens after the
 * claim commits (no transaction held across the network); if it fails, the claim is released again.
 */
import { and, eq, ne, sql } from "drizzle-orm";
import { auditLog, sendingDomains } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { DomainIdentities } from "../../adapters/domain-identities";
import type { ServiceCtx } from "../service-ctx";
import { toDomainView, type DomainView } from "./domain-view";

export interface AddDomainInput {
  domain: string;
  provider: "ses" | "resend";
}

export async function addDomain({ ctx, input, identities }: { ctx: ServiceCtx; input: AddDomainInput; identities: DomainIdentities }): Promise<DomainView> {
  const { db, tenantId, mode } = ctx;
  const { domain, provider } = input;
  const id = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sending_domain:${domain}`}))`);
    const [otherTenant] = await tx
      .select({ id: sendingDomains.id })
      .from(sendingDomains)
      .where(and(eq(sendingDomains.domain, domain), ne(sendingDomains.tenantId, tenantId)))
      .limit(1);
    if (otherTenant) throw new AppError("conflict", `Domain ${domain} is already claimed by another account`);
    const [mine] = await tx
      .select({ id: sendingDomains.id })
      .from(sendingDomains)
      .where(and(eq(sendingDomains.tenantId, tenantId), eq(sendingDomains.mode, mode), eq(sendingDomains.provider, provider), eq(sendingDomains.domain, domain)));
    if (mine) throw new AppError("conflict", `Domain ${domain} was already added for ${provider} (id ${mine.id})`);
    const [row] = await tx.insert(sendingDomains).values({ tenantId, mode, domain, provider }).returning({ id: sendingDomains.id });
    return row!.id;
  });

  let created;
  try {
    created = await identities.create(domain);
  } catch (err) {
    await db.delete(sendingDomains).where(eq(sendingDomains.id, id));
    throw err;
  }
  const now = new Date();
  const [row] = await db
    .update(sendingDomains)
    .set({
      providerRef: created.ref,
      status: created.status,
      records: created.records as unknown as Record<string, unknown>[],
      mailFromDomain: created.mailFromDomain ?? null,
      lastCheckedAt: now,
      verifiedAt: created.status === "verified" ? now : null,
      updatedAt: now,
    })
    .where(eq(sendingDomains.id, id))
    .returning();
  await db.insert(auditLog).values({ tenantId, actor: ctx.actor, action: "domain.added", targetType: "sending_domain", targetId: id, data: { domain, provider }, requestId: ctx.requestId ?? null });
  return toDomainView(row!);
}
