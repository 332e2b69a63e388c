/**
 * The key that seals BYOK credentials at the edge: `ENCRYPTION_KEYS[ENCRYPTION_KEY_ID]` (or the only key), the
 * same key map the consumers open them with (core/domain/crypto.ts), imported through the sealer's per-isolate
 * cache (adapters/secret-sealer.ts).
 */
import type { EdgeConfig } from "../env";
import { currentSealingKey } from "./secret-sealer";

export interface SealingKey {
  id: string;
  key: CryptoKey;
}

export async function sealingKeyOf(config: EdgeConfig): Promise<SealingKey> {
  return currentSealingKey(config);
}
