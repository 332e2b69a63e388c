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
 * Where a sealed secret belongs. All of it is bound as additional authenticated data together with the key
 * id (`v2|keyId|tenantId|configId|provider`), so a ciphertext copied to another row — another tenant's config,
 * another config of the same tenant, or relabelled with another provider or key id — fails to open instead of
 * lending its credentials to that row (issue 6, scenario 8).
 */
export interface SecretBinding {
  tenantId: string;
  /** The row holding the ciphertext (send_configs.id). */
  configId: string;
  /** What the secret is for (the config's provider: ses, resend, telnyx, webhook). */
  provider: string;
}

/**
 * The AAD. Format v2; v1 bound only the key id. There is no production data sealed with v1, so v1 is not
 * readable any more (a clean switch).
 */
export function secretAad(keyId: string, b: SecretBinding): Uint8Array<ArrayBuffer> {
  for (const part of [keyId, b.tenantId, b.configId, b.provider]) {
    if (!part || part.includes("|")) throw new SealedSecretError("secret binding parts must be non-empty and contain no '|'");
  }
  return new TextEncoder().encode(`v2|${keyId}|${b.tenantId}|${b.configId}|${b.provider}`) as Uint8Array<ArrayBuffer>;
}

export async function sealSecret(plaintext: string, key: CryptoKey, keyId: string, binding: SecretBinding): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: secretAad(keyId, binding) }, key, new TextEncoder().encode(plaintext)),
  );
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv, 0);
  out.set(ct, IV_BYTES);
  return toBase64(out);
}

export async function openSecret(sealed: string, key: CryptoKey, keyId: string, binding: SecretBinding): Promise<string> {
  const bytes = fromBase64(sealed);
  if (bytes.length < IV_BYTES + 16) throw new SealedSecretError("sealed secret is too short");
  const additionalData = secretAad(keyId, binding);
  try {
    const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData }, key, bytes.subarray(IV_BYTES));
    return new TextDecoder().decode(pt);
  } catch {
    throw new SealedSecretError(`sealed secret did not authenticate with key ${keyId} for this tenant, config and provider`);
  }
}
