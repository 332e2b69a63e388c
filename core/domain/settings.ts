/**
 * Setting formats both deployables read (consumers/config.ts from process.env, edge/env.ts from Worker
 * bindings), defined once so a value that one side accepts the other side accepts too.
 *
 * Edge-safe: no node:* imports (atob, not Buffer).
 */
import { z } from "zod";

/** `{"key-id":"<base64 of 32 bytes>"}`: the keys sealing secrets at rest (core/domain/crypto.ts). */
export const EncryptionKeysSetting = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: 'must be JSON like {"key-id":"<base64 32 bytes>"}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1).regex(/^[^|]+$/, "no '|' in key ids"), z.string().refine(isBase64Key32, "must be base64 of 32 bytes")));

function isBase64Key32(s: string): boolean {
  try {
    return atob(s).length === 32;
  } catch {
    return false; // not base64 at all
  }
}

/** Comma-separated host names, lowercased; empty = none. */
export const HostListSetting = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim().toLowerCase())
      .filter(Boolean),
  );
