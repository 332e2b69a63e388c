/** The API shape of a sending domain, and the tenant+mode scope every domain query uses. */
import { and, eq, type SQL } from "drizzle-orm";
import { sendingDomains, type SendingDomain } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { ServiceCtx } from "../service-ctx";

export interface DomainView {
  id: string;
  domain: string;
  provider: "ses" | "resend";
  status: SendingDomain["status"];
  mode: SendingDomain["mode"];
  records: SendingDomain["records"];
  mailFromDomain: string | null;
  lastCheckedAt: string | null;
  verifiedAt: string | null;
  createdAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toDomainView(d: SendingDomain): DomainView {
  return {
    id: d.id,
    domain: d.domain,
    provider: d.provider as "ses" | "resend",
    status: d.status,
    mode: d.mode,
    records: d.records,
    mailFromDomain: d.mailFromDomain,
    lastCheckedAt: iso(d.lastCheckedAt),
    verifiedAt: iso(d.verifiedAt),
    createdAt: d.createdAt.toISOString(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function domainScope(ctx: Pick<ServiceCtx, "tenantId" | "mode">): SQL {
  return and(eq(sendingDomains.tenantId, ctx.tenantId), eq(sendingDomains.mode, ctx.mode))!;
}

/** The caller's domain, or 404 (another tenant's, the other mode's and malformed ids alike). */
export async function loadScopedDomain(db: Executor, ctx: Pick<ServiceCtx, "tenantId" | "mode">, id: string): Promise<SendingDomain> {
  if (!UUID.test(id)) throw new AppError("not_found", `Domain ${id} not found`);
  const [row] = await db.select().from(sendingDomains).where(and(domainScope(ctx), eq(sendingDomains.id, id)));
  if (!row) throw new AppError("not_found", `Domain ${id} not found`);
  return row;
}
