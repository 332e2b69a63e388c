/**
 * Recipient address normalisation: the ONE place a recipient's `to` becomes the stored address, so dedupe
 * within a batch and the suppression check compare like with like (DESIGN §3).
 *
 * - email: trimmed and lowercased as a whole, the local part too. RFC 5321 allows a case-sensitive local
 *   part, but no mailbox provider in use treats `Ada@` and `ada@` as different people, and a suppression
 *   added as `ADA@example.com` must stop a send to `ada@example.com`. Syntax: an RFC 5322 `addr-spec`
 *   (email-addresses, rejecting TLD-less domains), at most 320 characters.
 * - sms: E.164 (`+4915112345678`) via libphonenumber-js; a number must carry its country code.
 * - webhook: an absolute http(s) URL in WHATWG serialisation (lowercased scheme and host, default port
 *   dropped, path percent-encoded), so equal targets compare equal.
 *
 * Edge-safe: no node:* imports.
 */
import emailAddresses from "email-addresses";
import { parsePhoneNumberFromString } from "libphonenumber-js";

export type AddressChannel = "email" | "sms" | "webhook";

export type Normalized = { ok: true; address: string } | { ok: false; message: string };

const MAX_EMAIL = 320;
const MAX_URL = 2048;

/**
 * The common shape, decided without the full parser (which costs tens of µs an address, too much for a
 * 1,000,000-row upload): a dot-atom local part (RFC 5322 atext) @ a dot-separated LDH domain with a TLD. Every
 * string it matches is an addr-spec email-addresses accepts (address.test.ts checks that property); anything
 * else — quoted local parts, domain literals, non-ASCII — goes to the parser.
 */
const COMMON_EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,63}$/;

export function normalizeEmail(raw: string): Normalized {
  const s = raw.trim().toLowerCase();
  if (s.length === 0 || s.length > MAX_EMAIL) return { ok: false, message: `must be an email address of 1–${MAX_EMAIL} characters` };
  if (COMMON_EMAIL.test(s)) return { ok: true, address: s };
  return parsedEmail(s);
}

/** The full RFC 5322 addr-spec check (exported for the property test of the fast path). */
export function parsedEmail(s: string): Normalized {
  const parsed = emailAddresses({ input: s, startAt: "addr-spec" as never, rejectTLD: true, rfc6532: true, simple: false, strict: false });
  const ok = parsed !== null && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s);
  return ok ? { ok: true, address: s } : { ok: false, message: "must be a valid email address" };
}

export function normalizePhone(raw: string): Normalized {
  const s = raw.trim();
  if (!s.startsWith("+")) return { ok: false, message: "must be an E.164 phone number with country code, e.g. +4915112345678" };
  const n = parsePhoneNumberFromString(s);
  if (!n || !n.isValid()) return { ok: false, message: "must be a valid E.164 phone number" };
  return { ok: true, address: n.number };
}

export function normalizeWebhookUrl(raw: string): Normalized {
  const s = raw.trim();
  if (s.length > MAX_URL) return { ok: false, message: `must be a URL of at most ${MAX_URL} characters` };
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return { ok: false, message: "must be an absolute http(s) URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, message: "must be an http or https URL" };
  url.hash = "";
  return { ok: true, address: url.href };
}

export function normalizeAddress(channel: AddressChannel, raw: string): Normalized {
  if (channel === "sms") return normalizePhone(raw);
  if (channel === "webhook") return normalizeWebhookUrl(raw);
  return normalizeEmail(raw);
}
