/**
 * verifyDomain: ask the provider again whether the records are published and store its answer
 * (`pending | verified | failed`) with the records as it now lists them. `force` (operators only, through
 * the admin CLI) marks the domain verified without asking: local stacks whose DNS is not real.
 */
import { eq } from "drizzle-orm";
import { auditLog, sendingDomains } from "../../../core/db/schema";
import type { DomainIdentities } from "../../adapters/domain-identities";
import type { ServiceCtx } from "../service-ctx";
import { loadScopedDomain, toDomainView, type DomainView } from "./domain-view";

export async function verifyDomain({
  ctx,
  input,
  identities,
}: {
  ctx: ServiceCtx;
  input: { domainId: string; force?: boolean };
  identities: DomainIdentities;
}): Promise<DomainView> {
  const { db } = ctx;
  const current = await loadScopedDomain(db, ctx, input.domainId);
  const now = new Date();
  const checked = input.force ? { status: "verified" as const, records: current.records, mailFromDomain: current.mailFromDomain } : await identities.check(current.providerRef ?? current.domain, current.domain);
  const [row] = await db
    .update(sendingDomains)
    .set({
      status: checked.status,
      records: checked.records as unknown as Record<string, unknown>[],
      mailFromDomain: checked.mailFromDomain ?? current.mailFromDomain,
      lastCheckedAt: now,
      verifiedAt: checked.status === "verified" ? (current.verifiedAt ?? now) : null,
      updatedAt: now,
    })
    .where(eq(sendingDomains.id, current.id))
    .returning();
  if (row!.status !== current.status) {
    await db.insert(auditLog).values({
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: input.force ? "domain.force_verified" : "domain.status_changed",
      targetType: "sending_domain",
      targetId: current.id,
      data: { from: current.status, to: row!.status },
      requestId: ctx.requestId ?? null,
    });
  }
  return toDomainView(row!);
}
