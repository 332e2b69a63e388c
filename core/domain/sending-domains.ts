/**
 * Sending domains (issue 8): the name rule, which domain an address sends from, and the DNS records a tenant
 * publishes for a managed provider identity. Shared by the edge (the domains routes, the batch `from` check)
 * and anything else that needs the same answer. Edge-safe: no node:* imports.
 */
import { z } from "zod";

/** A registrable host name: labels of letters, digits and inner hyphens, a TLD of letters, ≤ 253 characters. */
const DOMAIN_RE = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const DomainName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(DOMAIN_RE, "must be a domain name such as example.com (no scheme, no path, no trailing dot)");

export type DomainStatus = "pending" | "verified" | "failed";

/** The domain part of `Name <user@host>` or `user@host`, lower-cased; undefined when there is none. */
export function domainOfAddress(address: string): string | undefined {
  const bare = /<([^>]+)>/.exec(address)?.[1] ?? address;
  const at = bare.trim().lastIndexOf("@");
  if (at < 0) return undefined;
  const domain = bare.trim().slice(at + 1).toLowerCase();
  return domain || undefined;
}

/** One record to publish. `name` is fully qualified; `status` is the provider's view of it, when it has one. */
export interface DnsRecord {
  purpose: "dkim" | "spf" | "dmarc" | "mail_from_mx" | "mail_from_spf";
  type: "CNAME" | "TXT" | "MX";
  name: string;
  value: string;
  priority?: number;
  /** A suggestion (DMARC) is ours, not the provider's: it is never checked. */
  required: boolean;
}

/** The custom MAIL FROM subdomain we ask SES for: bounces return to `bounce.<domain>`, aligned with SPF. */
export const mailFromDomainOf = (domain: string) => `bounce.${domain}`;

/** A starting DMARC policy: monitor only, reports to the domain's own postmaster. */
export function dmarcSuggestion(domain: string): DnsRecord {
  return { purpose: "dmarc", type: "TXT", name: `_dmarc.${domain}`, value: `v=DMARC1; p=none; rua=mailto:postmaster@${domain}`, required: false };
}

/**
 * SES Easy DKIM (three CNAMEs `<token>._domainkey.<domain>` → `<token>.dkim.amazonses.com`), the custom MAIL
 * FROM MX and its SPF (`include:amazonses.com`), and the DMARC suggestion.
 */
export function sesDnsRecords(domain: string, dkimTokens: string[], region: string, mailFromDomain: string): DnsRecord[] {
  return [
    ...dkimTokens.map((t): DnsRecord => ({ purpose: "dkim", type: "CNAME", name: `${t}._domainkey.${domain}`, value: `${t}.dkim.amazonses.com`, required: true })),
    { purpose: "mail_from_mx", type: "MX", name: mailFromDomain, value: `feedback-smtp.${region}.amazonses.com`, priority: 10, required: true },
    { purpose: "mail_from_spf", type: "TXT", name: mailFromDomain, value: "v=spf1 include:amazonses.com ~all", required: true },
    dmarcSuggestion(domain),
  ];
}
