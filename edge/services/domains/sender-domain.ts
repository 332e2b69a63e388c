/**
 * The rule that closes the review finding of issue 8: in managed mode a batch's `from` must be on a domain
 * its tenant verified (in the batch's mode, for the config's provider) — otherwise any tenant could send as
 * another tenant's domain on our accounts, DKIM-signed as them. A subdomain of a verified domain counts, as
 * SES and Resend treat it. `replyTo` is not checked: neither SES nor Resend requires it to be verified.
 * Checked at creation and again at send (a domain can lose verification in between). A live batch needs a
 * live-mode domain; a test batch (a dry run: nothing reaches a provider) accepts either mode's, so a test key
 * exercises the same rule against the domains the tenant really verified.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { sendingDomains } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import { domainOfAddress } from "../../../core/domain/sending-domains";
import type { Executor } from "../../adapters/db";

export interface SenderCheck {
  tenantId: string;
  mode: "live" | "test";
  config: { mode: string; provider: string; channel: string };
  from: string | undefined;
}

export async function assertVerifiedSender(db: Executor, c: SenderCheck): Promise<void> {
  if (c.config.mode !== "managed" || c.config.channel !== "email" || !c.from) return;
  const domain = domainOfAddress(c.from);
  const refuse = (why: string) => new AppError("validation_failed", `message.from: ${why}`, { errors: [{ path: "message.from", message: why }] });
  if (!domain) throw refuse("has no domain");
  const [hit] = await db
    .select({ id: sendingDomains.id })
    .from(sendingDomains)
    .where(
      and(
        eq(sendingDomains.tenantId, c.tenantId),
        inArray(sendingDomains.mode, c.mode === "live" ? ["live"] : ["live", "test"]),
        eq(sendingDomains.provider, c.config.provider as "ses"),
        eq(sendingDomains.status, "verified"),
        sql`(${sendingDomains.domain} = ${domain} or ${domain} like '%.' || ${sendingDomains.domain})`,
      ),
    )
    .limit(1);
  if (!hit) throw refuse(`${domain} is not a verified sending domain of this account (add it with POST /v1/domains and verify it)`);
}
