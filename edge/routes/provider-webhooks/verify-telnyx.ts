/**
 * Telnyx webhooks: Ed25519 over `${telnyx-timestamp}|${rawBody}` with the account's public key (base64 of the
 * 32 raw bytes from the portal), signature in `telnyx-signature-ed25519` (base64, 64 bytes); timestamps more
 * than 5 minutes off are refused (shared/PROVIDERS.md §4, after team-telnyx's webhook_verification.py).
 * WebCrypto Ed25519, available in workerd and Node 20. Replay protection needs storage; the event's
 * `data.id` is returned for the route to check.
 */
export type TelnyxFailure = "missing_headers" | "bad_key" | "bad_signature" | "stale" | "malformed";

export type TelnyxVerification =
  | { ok: true; id: string; eventType: string; timestamp: number; payload: Record<string, unknown> }
  | { ok: false; reason: TelnyxFailure };

const TOLERANCE_SECONDS = 300;

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const bin = atob(b64.trim());
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function importPublicKey(b64: string): Promise<CryptoKey> | undefined {
  const raw = base64ToBytes(b64);
  if (!raw || raw.length !== 32) return undefined;
  let key = keyCache.get(b64);
  if (!key) {
    key = crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(b64, key);
  }
  return key;
}

export async function verifyTelnyx(
  rawBody: string,
  headers: Headers,
  publicKeyBase64: string,
  opts: { now?: () => number; toleranceSeconds?: number } = {},
): Promise<TelnyxVerification> {
  const sigHeader = headers.get("telnyx-signature-ed25519");
  const tsHeader = headers.get("telnyx-timestamp");
  if (!sigHeader || !tsHeader) return { ok: false, reason: "missing_headers" };
  const keyP = importPublicKey(publicKeyBase64);
  if (!keyP) return { ok: false, reason: "bad_key" };
  const signature = base64ToBytes(sigHeader);
  if (!signature || signature.length !== 64) return { ok: false, reason: "bad_signature" };
  if (!/^\d{1,12}$/.test(tsHeader.trim())) return { ok: false, reason: "stale" };
  const ok = await crypto.subtle.verify("Ed25519", await keyP, signature, new TextEncoder().encode(`${tsHeader}|${rawBody}`));
  if (!ok) return { ok: false, reason: "bad_signature" };
  const ts = Number(tsHeader);
  const now = Math.floor((opts.now?.() ?? Date.now()) / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSeconds ?? TOLERANCE_SECONDS)) return { ok: false, reason: "stale" };
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(rawBody) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const data = payload?.data as { id?: unknown; event_type?: unknown } | undefined;
  if (!data || typeof data.id !== "string" || typeof data.event_type !== "string") return { ok: false, reason: "malformed" };
  return { ok: true, id: data.id, eventType: data.event_type, timestamp: ts, payload };
}
