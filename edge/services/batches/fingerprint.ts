/** The fingerprint of a request body that an `Idempotency-Key` is bound to: key order does not matter. */
import { sha256Hex } from "../../../core/domain/api-keys";

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export function requestFingerprint(body: unknown): Promise<string> {
  return sha256Hex(stableStringify(body));
}
