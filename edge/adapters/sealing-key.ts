/**
 * The key that seals BYOK credentials at the edge: `ENCRYPTION_KEYS[ENCRYPTION_KEY_ID]`, the same key map the
 * consumers open them with (core/domain/crypto.ts). Imported per call: a CryptoKey is an I/O-free object, but
 * parsing once per request is cheap and keeps module scope free of secrets.
 */
import { ConfigError } from "../../core/domain/errors";
import { importSealingKey } from "../../core/domain/crypto";
import type { EdgeConfig } from "../env";

export interface SealingKey {
  id: string;
  key: CryptoKey;
}

export async function sealingKeyOf(config: EdgeConfig): Promise<SealingKey> {
  const id = config.ENCRYPTION_KEY_ID;
  let keys: Record<string, unknown>;
  try {
    keys = JSON.parse(config.ENCRYPTION_KEYS ?? "{}") as Record<string, unknown>;
  } catch {
    throw new ConfigError("the Worker is misconfigured: ENCRYPTION_KEYS (must be JSON {\"key-id\": \"<base64 32 bytes>\"})");
  }
  const raw = id ? keys[id] : undefined;
  if (!id || typeof raw !== "string") throw new ConfigError("the Worker is misconfigured: ENCRYPTION_KEYS / ENCRYPTION_KEY_ID (required to store BYOK credentials)");
  try {
    return { id, key: await importSealingKey(raw) };
  } catch (err) {
    throw new ConfigError(`the Worker is misconfigured: ENCRYPTION_KEYS[${id}] (${(err as Error).message})`);
  }
}
