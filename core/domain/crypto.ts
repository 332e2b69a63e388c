/**
 * Sealing of secrets at rest (BYOK provider credentials, customer webhook secrets): AES-256-GCM with a random
 * 96-bit IV, stored as base64(iv || ciphertext || tag) next to the id of the key that sealed it, so keys can
 * rotate (DESIGN §10). WebCrypto only: the edge seals, the Node consumers open, with the same code.
 *
 * Edge-safe: no node:* imports.
 */

const IV_BYTES = 12;

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealedSecretError";
  }
}

/** Imports a base64 32-byte key; anything else is a configuration error, refused loudly. */
export async function importSealingKey(base64Key: string): Promise<CryptoKey> {
  const raw = fromBase64(base64Key);
  if (raw.length !== 32) throw new SealedSecretError(`sealing key must be 32 bytes, got ${raw.length}`);
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/**
 * `keyId` is bound as additional authenticated data, so a ciphertext relabelled with another key id fails to
 * open instead of being tried against the wrong key.
 */
export async function sealSecret(plaintext: string, key: CryptoKey, keyId: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(keyId) },
      key,
      new TextEncoder().encode(plaintext),
    ),
  );
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv, 0);
  out.set(ct, IV_BYTES);
  return toBase64(out);
}

export async function openSecret(sealed: string, key: CryptoKey, keyId: string): Promise<string> {
  const bytes = fromBase64(sealed);
  if (bytes.length < IV_BYTES + 16) throw new SealedSecretError("sealed secret is too short");
  try {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: new TextEncoder().encode(keyId) },
      key,
      bytes.subarray(IV_BYTES),
    );
    return new TextDecoder().decode(pt);
  } catch {
    throw new SealedSecretError(`sealed secret did not authenticate with key ${keyId}`);
  }
}
