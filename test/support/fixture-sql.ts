/**
 * What a test tenant is, in one place for both sides of the tests: the Node fixtures (test/support/fixtures.ts,
 * through `pg`), the demo tenant of the local stack (dev/seed.ts) and the Worker tests (edge/test/harness.ts,
 * inside workerd through the Neon driver). Edge-safe on purpose: no imports, only SQL text and its parameters.
 */

/**
 * One statement: a tenant, an API key (scope `admin` unless `scopes` says otherwise), and (unless
 * `withDefaultConfig` is false) a default managed SES email send config with the domain of its `from` as a
 * verified sending domain in the key's mode (managed sends need one, issue 8; written directly, as the
 * platform's shared test domains are held by every test tenant).
 * Returns `tenant_id`, `api_key_id` and `send_config_id` (null without a config).
 */
export const TENANT_WITH_KEY_SQL = `with t as (insert into tenants (name) values ($1) returning id),
      k as (insert into api_keys (tenant_id, name, prefix, key_hash, mode, scopes)
            select id, $5, $2, $3, $4, $9::text[] from t returning id),
      c as (insert into send_configs (tenant_id, name, channel, mode, provider, defaults, is_default)
            select id, $6, 'email', 'managed', 'ses', $7::jsonb, true from t where $8::boolean returning id),
      d as (insert into sending_domains (tenant_id, mode, domain, provider, provider_ref, status, verified_at)
            select id, $4, lower(substring($7::jsonb->>'from' from '@([^>[:space:]]+)')), 'ses',
                   lower(substring($7::jsonb->>'from' from '@([^>[:space:]]+)')), 'verified', now()
              from t where $8::boolean returning id)
 select (select id from t) as tenant_id, (select id from k) as api_key_id, (select id from c) as send_config_id`;

export interface TenantWithKeyRow {
  tenant_id: string;
  api_key_id: string;
  send_config_id: string | null;
}

export interface TenantWithKeyInput {
  tenantName: string;
  /** From `generateApiKey` (core/domain/api-keys): only the prefix and hash are stored. */
  key: { prefix: string; hash: string; mode: "live" | "test" };
  keyName: string;
  configName: string;
  /** The default config's `from` address. */
  from: string;
  withDefaultConfig?: boolean;
  /** The key's scopes (core/domain/scopes.ts); `["admin"]` by default. */
  scopes?: string[];
}

export function tenantWithKeyParams(input: TenantWithKeyInput): unknown[] {
  return [
    input.tenantName,
    input.key.prefix,
    input.key.hash,
    input.key.mode,
    input.keyName,
    input.configName,
    JSON.stringify({ from: input.from }),
    input.withDefaultConfig ?? true,
    input.scopes ?? ["admin"],
  ];
}

/** Another API key of an existing tenant: `$1` tenant, `$2` prefix, `$3` hash, `$4` mode, `$5` name, `$6` scopes. */
export const API_KEY_SQL = `insert into api_keys (tenant_id, prefix, key_hash, mode, name, scopes)
 values ($1, $2, $3, $4, $5, $6::text[]) returning id`;

export function apiKeyParams(tenantId: string, key: TenantWithKeyInput["key"], opts: { name?: string; scopes?: string[] } = {}): unknown[] {
  return [tenantId, key.prefix, key.hash, key.mode, opts.name ?? "second", opts.scopes ?? ["admin"]];
}
