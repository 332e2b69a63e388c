import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeEmail, parsedEmail } from "./address";

// Strings shaped like addresses: mostly characters the fast path accepts, with the ones where it and the full
// parser could disagree mixed in.
const chars = (set: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...set.split("")), maxLength });
const odd = " \"()[]\\,;:<>é@";
const local = fc.oneof(chars("aZ09.-_+!#$%&'*/=?^`{|}~", 12), chars("aZ09.-_+" + odd, 12));
const domain = fc.oneof(chars("aZ09.-", 12), chars("aZ09.-_" + odd, 12));
const addressLike = fc.oneof(
  fc.tuple(local, domain, fc.constantFrom("com", "de", "c", "co.uk", "1a", "")).map(([l, d, t]) => `${l}@${d}${t ? "." + t : ""}`),
  chars("aZ09.-@ " + odd, 20),
);

describe("normalizeEmail", () => {
  it("decides exactly as the full RFC 5322 parser does (the common-shape fast path changes nothing)", () => {
    fc.assert(
      fc.property(addressLike, (raw) => {
        expect(normalizeEmail(raw)).toEqual(normalizeEmailSlow(raw));
      }),
      { numRuns: 5_000 },
    );
  }, 120_000);

  it("normalises case and whitespace, and refuses what is not an address", () => {
    expect(normalizeEmail("  Ada.Lovelace+news@Example.COM ")).toEqual({ ok: true, address: "ada.lovelace+news@example.com" });
    expect(normalizeEmail('"quoted"@example.com').ok).toBe(true); // the parser's path
    for (const bad of ["ada", "ada@", "@example.com", "ada@example", "a..b@example.com", "ada@exa mple.com", "ada@@example.com"]) {
      expect(normalizeEmail(bad).ok, bad).toBe(false);
    }
  });
});

/** What normalizeEmail answered before the fast path: the length rule, then the parser. */
function normalizeEmailSlow(raw: string) {
  const s = raw.trim().toLowerCase();
  if (s.length === 0 || s.length > 320) return { ok: false, message: "must be an email address of 1–320 characters" };
  return parsedEmail(s);
}
