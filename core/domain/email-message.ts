/**
 * Rules for the parts of an email message a tenant controls, beyond templating: the `from`/`replyTo`
 * mailboxes (RFC 5322 `mailbox`: `Name <local@domain>` or a bare address, parsed by email-addresses) and
 * custom headers.
 *
 * Headers are an allow-list: `X-*` names plus a few informational ones. Everything that decides identity,
 * routing, authentication or unsubscribe handling (From, Sender, Reply-To, To/Cc/Bcc, Return-Path, DKIM-*,
 * ARC-*, Message-ID, Date, MIME/Content-*, List-Unsubscribe*, Feedback-ID, X-SES-*…) is set by the platform
 * or the provider and refused. Names follow SES (1–126 printable ASCII, no ':'); values at most 870
 * characters of printable ASCII or tab, so no CR/LF (header injection) and no NUL.
 *
 * Edge-safe: no node:* imports.
 */
import emailAddresses from "email-addresses";
import { LIMITS } from "./limits";

export function mailboxProblem(raw: string): string | undefined {
  if (raw.length > 320 + 200) return "is too long";
  if (/[\r\n\0]/.test(raw)) return "must not contain line breaks or NUL";
  const parsed = emailAddresses.parseOneAddress({ input: raw, rejectTLD: true, rfc6532: true });
  if (!parsed) return 'must be an RFC 5322 mailbox, e.g. "Acme <news@acme.com>" or news@acme.com';
  if (parsed.type !== "mailbox") return "must be a single mailbox, not a group";
  return undefined;
}

const ALLOWED_NAMES = new Set(["keywords", "comments", "in-reply-to", "references", "auto-submitted", "precedence", "importance", "priority", "organization"]);
const REFUSED_X = /^x-(ses|mailer-daemon|original-|forwarded-|report-abuse|campaign-?id$)/i;

export function headerNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > LIMITS.headerNameChars) return `header names are 1–${LIMITS.headerNameChars} characters`;
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) return "header names are printable ASCII without ':' or spaces";
  const lower = name.toLowerCase();
  if (lower.startsWith("x-") && lower.length > 2 && !REFUSED_X.test(lower)) return undefined;
  if (ALLOWED_NAMES.has(lower)) return undefined;
  return `header ${name} is set by the platform; custom headers are X-* or one of ${[...ALLOWED_NAMES].join(", ")}`;
}

export function headerValueProblem(value: string): string | undefined {
  if (value.length > LIMITS.headerValueChars) return `header values are at most ${LIMITS.headerValueChars} characters`;
  if (!/^[\x20-\x7e\t]*$/.test(value)) return "header values are printable ASCII (no line breaks, NUL or non-ASCII)";
  return undefined;
}
