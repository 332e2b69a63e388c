/**
 * Picks the provider client for a send config. Managed configs share the platform's clients (built once in
 * main.ts); BYOK configs get a client built from their own credentials, opened from
 * `send_configs.credentials_ciphertext` with `ENCRYPTION_KEYS[credentials_key_id]` (core/domain/crypto.ts,
 * bound to the config's tenant, id and provider) and cached per config: one entry per config id holding its
 * current version (`updated_at`), so a credential update replaces the old client at once; the cache is an LRU
 * bounded in size and age so configs that stopped sending do not keep clients (and sockets) forever.
 */
import { LRUCache } from "lru-cache";
import { ByokCredentials } from "../../core/domain/byok";
import type { Provider, SendMode } from "../../core/domain/channels";
import { importSealingKey, openSecret } from "../../core/domain/crypto";
import type { ProviderClient } from "./interface";
import { createResendClient } from "./resend";
import { createSesClient } from "./ses";
import { createTelnyxClient } from "./telnyx";

export interface SendConfigRow {
  id: string;
  tenant_id: string;
  mode: SendMode;
  provider: Provider;
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

export class ProviderConfigError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "ProviderConfigError";
  }
}

export interface ProviderRegistry {
  clientFor(config: SendConfigRow): Promise<ProviderClient>;
  /** BYOK clients currently cached (expired entries are purged first). */
  cachedClients(): number;
}

export interface ClientCacheOptions {
  /** Most BYOK clients kept (least recently used go first). */
  max: number;
  /** A client unused for this long is dropped (rebuilt from the row on next use). */
  ttlMs: number;
  /** Clock (tests). */
  now?: () => number;
}

export const DEFAULT_CLIENT_CACHE: ClientCacheOptions = { max: 500, ttlMs: 15 * 60_000 };

export function createProviderRegistry(opts: {
  managed: Record<Provider, ProviderClient>;
  endpoints: ProviderEndpoints;
  encryptionKeys: Record<string, string>;
  clientCache?: ClientCacheOptions;
}): ProviderRegistry {
  const keys = new Map<string, Promise<CryptoKey>>();
  const cacheOpts = opts.clientCache ?? DEFAULT_CLIENT_CACHE;
  // Keyed by config id; the value remembers which version (updated_at) it was built from.
  const byok = new LRUCache<string, { version: number; client: ProviderClient }>({
    max: cacheOpts.max,
    ttl: cacheOpts.ttlMs,
    updateAgeOnGet: true,
    ...(cacheOpts.now ? { perf: { now: cacheOpts.now }, ttlResolution: 0 } : {}),
  });

  function keyFor(id: string): Promise<CryptoKey> {
    const raw = opts.encryptionKeys[id];
    if (!raw) throw new ProviderConfigError(`unknown encryption key id ${id}`);
    let k = keys.get(id);
    if (!k) keys.set(id, (k = importSealingKey(raw)));
    return k;
  }

  function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, config: SendConfigRow, plain: unknown): T {
    const r = schema.safeParse(plain);
    if (r.success) return r.data;
    const why = r.error.issues.map((i) => `${i.path.map(String).join(".") || "credentials"}: ${i.message}`).join("; ");
    throw new ProviderConfigError(`send config ${config.id}: invalid ${config.provider} credentials (${why.slice(0, 300)})`);
  }

  async function buildByok(config: SendConfigRow): Promise<ProviderClient> {
    if (!config.credentials_ciphertext || !config.credentials_key_id) {
      throw new ProviderConfigError(`send config ${config.id} is BYOK but has no credentials`);
    }
    let plain: unknown;
    try {
      const text = await openSecret(config.credentials_ciphertext, await keyFor(config.credentials_key_id), config.credentials_key_id, {
        tenantId: config.tenant_id,
        configId: config.id,
        provider: config.provider,
      });
      plain = JSON.parse(text);
    } catch (err) {
      if (err instanceof ProviderConfigError) throw err;
      throw new ProviderConfigError(`send config ${config.id}: credentials cannot be opened (${(err as Error).message})`);
    }
    const e = opts.endpoints;
    switch (config.provider) {
      case "ses": {
        // The region is validated (SES_REGION_PATTERN) before it becomes part of a host name.
        const c = parse(ByokCredentials.ses, config, plain);
        return createSesClient({ region: c.region ?? e.sesRegion, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, endpoint: e.sesEndpoint });
      }
      case "resend":
        return createResendClient({ apiUrl: e.resendApiUrl, apiKey: parse(ByokCredentials.resend, config, plain).apiKey });
      case "telnyx": {
        const c = parse(ByokCredentials.telnyx, config, plain);
        return createTelnyxClient({ apiUrl: e.telnyxApiUrl, apiKey: c.apiKey, messagingProfileId: c.messagingProfileId });
      }
      default:
        return opts.managed.webhook;
    }
  }

  return {
    async clientFor(config) {
      if (config.provider === "webhook" || config.mode === "managed") return opts.managed[config.provider];
      const version = new Date(config.updated_at).getTime();
      const hit = byok.get(config.id);
      if (hit && hit.version === version) return hit.client;
      let client: ProviderClient;
      try {
        client = await buildByok(config);
      } catch (err) {
        if (err instanceof ProviderConfigError) throw err;
        throw new ProviderConfigError(`send config ${config.id}: invalid ${config.provider} credentials (${(err as Error).message.slice(0, 200)})`);
      }
      // Never let an older version (a slow build that started before an update) replace a newer one.
      const current = byok.get(config.id);
      if (!current || current.version <= version) byok.set(config.id, { version, client });
      return client;
    },
    cachedClients() {
      byok.purgeStale();
      return byok.size;
    },
  };
}
