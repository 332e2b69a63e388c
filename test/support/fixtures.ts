/**
 * The one fixtures module of the Node-side tests (CONVENTIONS: test fixtures live in `test/support/`): tenants
 * with or without an API key, send configs per provider (managed or BYOK), batches with their recipients
 * inserted by one unnest — the state the edge leaves after `POST /v1/batches/{id}/send` — the rows tests read
 * back, and the consumer configuration an in-process consumer runs with. Every test makes its own tenant, so
 * tests never share state. The Worker tests (edge/test/harness.ts) run inside workerd and cannot import this
 * file; they share the tenant statement through ./fixture-sql.
 */
import pg from "pg";
import type { Region } from "../../core/contract";
import { generateApiKey, type ApiKeyMode } from "../../core/domain/api-keys";
import { importSealingKey, sealSecret } from "../../core/domain/crypto";
import { parseConfig, type ConsumerConfig } from "../../consumers/config";
import { LOCAL_ENCRYPTION_KEY, localUrls } from "../../dev/config";
import { consumerEnv, LOCAL_MANAGED_LIMITS } from "../../dev/stack";
import { TENANT_WITH_KEY_SQL, tenantWithKeyParams, type TenantWithKeyRow } from "./fixture-sql";

export type TestProvider = "ses" | "resend" | "telnyx";

/** A pool on the test stack's database (the consumers' integration tests, which start no stack). */
export function testPool(): pg.Pool {
  return new pg.Pool({ connectionString: localUrls("test").databaseUrl, max: 4 });
}

const channelOf = (provider: TestProvider) => (provider === "telnyx" ? "sms" : "email");

/** A tenant without API key (tests that bypass the edge). Named `<label> <random>`. */
export async function createTenant(pool: pg.Pool, label: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>("insert into tenants (name) values ($1) returning id", [
    `${label} ${crypto.randomUUID().slice(0, 8)}`,
  ]);
  return rows[0]!.id;
}

export interface TenantWithKey {
  tenantId: string;
  /** The plaintext key: only its hash is stored. */
  apiKey: string;
  apiKeyId: string;
  sendConfigId: string;
}

/** A tenant, a live or test API key and a default managed SES email config (fixture-sql.ts), in one statement. */
export async function createTenantWithKey(
  client: pg.ClientBase | pg.Pool,
  tenantName: string,
  opts: { mode?: ApiKeyMode; from?: string; keyName?: string; configName?: string; withDefaultConfig?: boolean } = {},
): Promise<TenantWithKey> {
  const key = await generateApiKey(opts.mode ?? "live");
  const { rows } = await client.query<TenantWithKeyRow>(
    TENANT_WITH_KEY_SQL,
    tenantWithKeyParams({
      tenantName,
      key,
      keyName: opts.keyName ?? "default",
      configName: opts.configName ?? "Managed email (SES)",
      from: opts.from ?? "Demo <hello@demo.batchsender.dev>",
      withDefaultConfig: opts.withDefaultConfig,
    }),
  );
  const row = rows[0]!;
  return { tenantId: row.tenant_id, apiKey: key.key, apiKeyId: row.api_key_id, sendConfigId: row.send_config_id ?? "" };
}

/** The end-to-end tests' tenant (through the running stack's edge): named `e2e <label> <random>`. */
export async function newTenant(pool: pg.Pool, label: string, opts?: { mode?: ApiKeyMode }): Promise<TenantWithKey> {
  return createTenantWithKey(pool, `e2e ${label} ${crypto.randomUUID().slice(0, 8)}`, opts);
}

export interface SendConfigOptions {
  name?: string;
  /** Email `from` of the config's defaults (SMS configs get a fixed `fromNumber`). */
  from?: string;
  rateLimitPerSecond?: number;
  /**
   * BYOK: the customer's own provider credentials, sealed with the local encryption key and bound to this
   * tenant, this config id and the provider (core/domain/crypto.ts `sealSecret`). Without it the config is managed.
   */
  byok?: Record<string, string>;
}

export async function createSendConfig(pool: pg.Pool, tenantId: string, provider: TestProvider, opts: SendConfigOptions = {}): Promise<string> {
  const channel = channelOf(provider);
  const defaults = provider === "telnyx" ? { fromNumber: "+12125550100" } : { from: opts.from ?? "Test <test@demo.batchsender.dev>" };
  const configId = crypto.randomUUID();
  let sealed: string | null = null;
  if (opts.byok) {
    const key = await importSealingKey(LOCAL_ENCRYPTION_KEY.key);
    sealed = await sealSecret(JSON.stringify(opts.byok), key, LOCAL_ENCRYPTION_KEY.id, { tenantId, configId, provider });
  }
  const mode = opts.byok ? "byok" : "managed";
  const { rows } = await pool.query<{ id: string }>(
    `insert into send_configs (id, tenant_id, name, channel, mode, provider, defaults, rate_limit_per_second, credentials_ciphertext, credentials_key_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
    [
      configId,
      tenantId,
      opts.name ?? `${mode} ${provider}`,
      channel,
      mode,
      provider,
      JSON.stringify(defaults),
      opts.rateLimitPerSecond ?? null,
      sealed,
      sealed ? LOCAL_ENCRYPTION_KEY.id : null,
    ],
  );
  if (mode === "managed" && channel === "email") await verifiedDomainFor(pool, tenantId, provider, defaults.from!);
  return rows[0]!.id;
}

/**
 * Managed email sends only from a verified domain of the tenant (issue 8): a managed email config's `from`
 * domain is verified for its provider, written directly like TENANT_WITH_KEY_SQL does for the default config.
 */
async function verifiedDomainFor(pool: pg.Pool, tenantId: string, provider: TestProvider, from: string): Promise<void> {
  const domain = /@([^>\s]+)/.exec(from)?.[1]?.toLowerCase();
  if (!domain) return;
  await pool.query(
    `insert into sending_domains (tenant_id, mode, domain, provider, provider_ref, status, verified_at)
     values ($1, 'live', $2, $3, $2, 'verified', now()) on conflict do nothing`,
    [tenantId, domain, provider],
  );
}

/** A tenant without API key and one managed send config for `provider`. */
export async function createTenantWithConfig(
  pool: pg.Pool,
  provider: TestProvider,
  label = "consumers-int",
): Promise<{ tenantId: string; sendConfigId: string }> {
  const tenantId = await createTenant(pool, label);
  return { tenantId, sendConfigId: await createSendConfig(pool, tenantId, provider) };
}

export function addressFor(provider: TestProvider, i: number): string {
  // +1 555 01xx xxxx numbers are reserved for fiction; libphonenumber accepts the 555-2xxx range as valid.
  if (provider === "telnyx") return `+1212555${String(1000 + (i % 9000)).padStart(4, "0")}`;
  return `r${i}@example.com`;
}

export interface BatchOptions {
  tenantId: string;
  sendConfigId: string;
  provider: TestProvider;
  count: number;
  /** `queued` by default (counters as the edge sets them on send); e.g. `draft`, `paused`. */
  status?: string;
  region?: Region;
  dryRun?: boolean;
  name?: string;
  /** First address index (addressFor), so two batches of one tenant can have distinct recipients. */
  offset?: number;
}

async function insertBatch(pool: pg.Pool, opts: BatchOptions, returnIds: boolean): Promise<{ batchId: string; ids: number[] }> {
  const channel = channelOf(opts.provider);
  const payload =
    channel === "sms"
      ? { channel, text: "Hi {{ name }}" }
      : { channel, from: "Test <test@demo.batchsender.dev>", subject: "Hello {{ name }}", text: "Hi {{ name }}" };
  if (opts.provider === "telnyx" && opts.count > 9000) throw new Error("telnyx fixtures have 9,000 distinct numbers");
  const { rows } = await pool.query<{ id: string }>(
    `insert into batches (tenant_id, send_config_id, name, channel, payload, status, total, queued, region, dry_run, queued_at)
     values ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, now()) returning id`,
    [
      opts.tenantId,
      opts.sendConfigId,
      opts.name ?? "test batch",
      channel,
      JSON.stringify(payload),
      opts.status ?? "queued",
      opts.count,
      opts.region ?? "falkenstein",
      opts.dryRun ?? false,
    ],
  );
  const batchId = rows[0]!.id;
  const addresses = Array.from({ length: opts.count }, (_, i) => addressFor(opts.provider, i + (opts.offset ?? 0)));
  const r = await pool.query<{ id: string }>(
    `insert into recipients (batch_id, tenant_id, address, variables, status)
     select $1, $2, a, jsonb_build_object('name', 'R' || ord), 'queued'
       from unnest($3::text[]) with ordinality as t(a, ord)${returnIds ? " returning id" : ""}`,
    [batchId, opts.tenantId, addresses],
  );
  return { batchId, ids: returnIds ? r.rows.map((x) => Number(x.id)).sort((a, c) => a - c) : [] };
}

/** A batch with `count` recipients; returns its id and the recipient ids in order. */
export async function createBatch(pool: pg.Pool, opts: BatchOptions): Promise<{ batchId: string; ids: number[] }> {
  return insertBatch(pool, opts, true);
}

/** A batch with `count` recipients (large counts welcome: the ids are not read back); returns its id. */
export async function createQueuedBatch(pool: pg.Pool, opts: BatchOptions): Promise<string> {
  return (await insertBatch(pool, opts, false)).batchId;
}

export async function batchRow(pool: pg.Pool, batchId: string) {
  const { rows } = await pool.query<{ status: string; total: number; queued: number; sent: number; failed: number; cancelled: number; suppressed: number }>(
    "select status, total, queued, sent, failed, cancelled, suppressed from batches where id = $1",
    [batchId],
  );
  return rows[0]!;
}

export async function recipientStatusCounts(pool: pg.Pool, batchId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: number }>(
    "select status, count(*)::int as n from recipients where batch_id = $1 group by status",
    [batchId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Consumer env: managed and tenant rates far above anything a correctness test sends (pacing is not under test). */
export const UNTHROTTLED_RATES: Readonly<Record<string, string>> = {
  MANAGED_SES_RPS: "5000",
  MANAGED_RESEND_RPS: "5000",
  MANAGED_TELNYX_RPS: "5000",
  TENANT_SEND_RPS: "100000",
};

/**
 * The configuration of an in-process consumer (consumers' integration tests): the environment the stack gives
 * a consumer process (dev/stack.ts `consumerEnv`) on the test database and Redis, with its own NATS and
 * sandbox, the built-in managed rates (not the stack's local ones), and small concurrency and grace.
 */
export function testConfig(natsUrl: string, sandboxUrl: string, extra: Record<string, string> = {}): ConsumerConfig {
  const env: Record<string, string> = consumerEnv({ ...localUrls("test"), natsUrl, sandboxUrl }, "falkenstein", 0);
  for (const k of Object.keys(LOCAL_MANAGED_LIMITS.test)) delete env[k];
  return parseConfig({ ...env, SENDER_CONCURRENCY: "8", SHUTDOWN_GRACE_SECONDS: "5", LOG_LEVEL: "silent", ...extra });
}
