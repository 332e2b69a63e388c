/**
 * Picks the provider client for a send config. Managed configs share the platform's clients (built once in
 * main.ts); BYOK configs get a client built from their own credentials, opened from
 * `send_configs.credentials_ciphertext` with `ENCRYPTION_KEYS[credentials_key_id]` (core/domain/crypto.ts)
 * and cached per config version, so a credential update takes effect without a restart.
 */
import { z } from "zod";
import { importSealingKey, openSecret } from "../../core/domain/crypto";
import type { ProviderClient } from "./interface";
import { createResendClient } from "./resend";
import { createSesClient } from "./ses";
import { createTelnyxClient } from "./telnyx";

export interface SendConfigRow {
  id: string;
  mode: "managed" | "byok";
  provider: "ses" | "resend" | "telnyx" | "webhook";
  credentials_ciphertext: string | null;
  credentials_key_id: string | null;
  updated_at: Date | string;
}

export interface ProviderEndpoints {
  sesEndpoint?: string;
  sesRegion: string;
  resendApiUrl: string;
  telnyxApiUrl: string;
}

const ByokCredentials = {
  ses: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), region: z.string().min(1).optional() }),
  resend: z.object({ apiKey: z.string().min(1) }),
  telnyx: z.object({ apiKey: z.string().min(1), messagingProfileId: z.string().optional() }),
};

export class ProviderConfigError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "ProviderConfigError";
  }
}

export interface ProviderRegistry {
  clientFor(config: SendConfigRow): Promise<ProviderClient>;
}

export function createProviderRegistry(opts: {
  managed: Record<SendConfigRow["provider"], ProviderClient>;
  endpoints: ProviderEndpoints;
  encryptionKeys: Record<string, string>;
}): ProviderRegistry {
  const keys = new Map<string, Promise<CryptoKey>>();
  // Per-process cache of BYOK clients; the key includes updated_at so edited credentials build a new client.
  const byok = new Map<string, ProviderClient>();

  function keyFor(id: string): Promise<CryptoKey> {
    const raw = opts.encryptionKeys[id];
    if (!raw) throw new ProviderConfigError(`unknown encryption key id ${id}`);
    let k = keys.get(id);
    if (!k) keys.set(id, (k = importSealingKey(raw)));
    return k;
  }

  async function buildByok(config: SendConfigRow): Promise<ProviderClient> {
    if (!config.credentials_ciphertext || !config.credentials_key_id) {
      throw new ProviderConfigError(`send config ${config.id} is BYOK but has no credentials`);
    }
    let plain: unknown;
    try {
      const text = await openSecret(config.credentials_ciphertext, await keyFor(config.credentials_key_id), config.credentials_key_id);
      plain = JSON.parse(text);
    } catch (err) {
      throw new ProviderConfigError(`send config ${config.id}: credentials cannot be opened (${(err as Error).message})`);
    }
    const e = opts.endpoints;
    switch (config.provider) {
      case "ses": {
        const c = ByokCredentials.ses.parse(plain);
        return createSesClient({ region: c.region ?? e.sesRegion, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, endpoint: e.sesEndpoint });
      }
      case "resend":
        return createResendClient({ apiUrl: e.resendApiUrl, apiKey: ByokCredentials.resend.parse(plain).apiKey });
      case "telnyx": {
        const c = ByokCredentials.telnyx.parse(plain);
        return createTelnyxClient({ apiUrl: e.telnyxApiUrl, apiKey: c.apiKey, messagingProfileId: c.messagingProfileId });
      }
      default:
        return opts.managed.webhook;
    }
  }

  return {
    async clientFor(config) {
      if (config.provider === "webhook" || config.mode === "managed") return opts.managed[config.provider];
      const cacheKey = `${config.id}:${new Date(config.updated_at).getTime()}`;
      const hit = byok.get(cacheKey);
      if (hit) return hit;
      let client: ProviderClient;
      try {
        client = await buildByok(config);
      } catch (err) {
        if (err instanceof ProviderConfigError) throw err;
        throw new ProviderConfigError(`send config ${config.id}: invalid ${config.provider} credentials (${(err as Error).message.slice(0, 200)})`);
      }
      byok.set(cacheKey, client);
      return client;
    },
  };
}
