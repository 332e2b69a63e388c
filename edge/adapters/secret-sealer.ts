/**
 * Seals secrets at rest for the edge's verbs (core/domain/crypto.ts) with the key ENCRYPTION_KEY_ID names (or
 * the only key of ENCRYPTION_KEYS). Keys are imported once per isolate per configuration (module-scope cache,
 * which holds only CryptoKeys, no request state).
 */
import { importSealingKey, openSecret, sealSecret, type SecretBinding } from "../../core/domain/crypto";
import { ConfigError, type EdgeConfig } from "../env";

export interface SecretSealer {
  seal(plaintext: string, binding: SecretBinding): Promise<{ ciphertext: string; keyId: string }>;
  open(ciphertext: string, keyId: string, binding: SecretBinding): Promise<string>;
}

const imported = new Map<string, Promise<CryptoKey>>();

function keyOf(raw: string): Promise<CryptoKey> {
  let k = imported.get(raw);
  if (!k) imported.set(raw, (k = importSealingKey(raw)));
  return k;
}

/** The key new secrets are sealed with: ENCRYPTION_KEY_ID, or the only key of ENCRYPTION_KEYS. */
export async function currentSealingKey(config: Pick<EdgeConfig, "ENCRYPTION_KEYS" | "ENCRYPTION_KEY_ID">): Promise<{ id: string; key: CryptoKey }> {
  const keys: Record<string, string> = config.ENCRYPTION_KEYS ?? {};
  const ids = Object.keys(keys);
  const id = config.ENCRYPTION_KEY_ID ?? (ids.length === 1 ? ids[0] : undefined);
  const raw = id ? keys[id] : undefined;
  if (!id || !raw) throw new ConfigError("the Worker is misconfigured: ENCRYPTION_KEYS (and ENCRYPTION_KEY_ID when there are several) must be set to store secrets");
  return { id, key: await keyOf(raw) };
}

export function configSealer(config: Pick<EdgeConfig, "ENCRYPTION_KEYS" | "ENCRYPTION_KEY_ID">): SecretSealer {
  const keys: Record<string, string> = config.ENCRYPTION_KEYS ?? {};
  const rawKey = (id: string) => {
    const raw = keys[id];
    if (!raw) throw new ConfigError(`the Worker is misconfigured: ENCRYPTION_KEYS has no key ${id}`);
    return raw;
  };
  return {
    async seal(plaintext, binding) {
      const { id: keyId, key } = await currentSealingKey(config);
      return { ciphertext: await sealSecret(plaintext, key, keyId, binding), keyId };
    },
    async open(ciphertext, keyId, binding) {
      return openSecret(ciphertext, await keyOf(rawKey(keyId)), keyId, binding);
    },
  };
}
