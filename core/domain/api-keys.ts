/**
 * API keys (DESIGN §10): 32 random bytes, shown once, stored as hex sha-256 with a short display prefix.
 * `bs_live_…` keys send for real; `bs_test_…` keys force dry runs.
 *
 * Edge-safe: WebCrypto only.
 */
export type ApiKeyMode = "live" | "test";

export interface GeneratedApiKey {
  key: string;
  prefix: string;
  hash: string;
  mode: ApiKeyMode;
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function sha256Hex(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function generateApiKey(mode: ApiKeyMode = "live"): Promise<GeneratedApiKey> {
  const key = `bs_${mode}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { key, prefix: key.slice(0, 12), hash: await sha256Hex(key), mode };
}

/** Cheap shape check before any database lookup; anything else is answered 401 without a query. */
export function looksLikeApiKey(candidate: string): boolean {
  return /^bs_(live|test)_[A-Za-z0-9_-]{43}$/.test(candidate);
}
