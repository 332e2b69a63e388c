/**
 * The demo tenant of the local stack: a tenant, a default managed email send config (SES through the
 * sandbox) and an API key. The key is shown once by design (only its hash is stored), so the stack keeps the
 * plaintext in its data folder to print it again on the next `npm start`; a missing or stale file means a
 * new key.
 */
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { generateApiKey, sha256Hex } from "../core/domain/api-keys";

export interface DemoTenant {
  tenantId: string;
  apiKey: string;
  sendConfigId: string;
}

export async function ensureDemoTenant(databaseUrl: string, dataDir: string, name = "Demo"): Promise<DemoTenant> {
  const file = path.join(dataDir, "demo-tenant.json");
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    if (fs.existsSync(file)) {
      const saved = JSON.parse(fs.readFileSync(file, "utf8")) as DemoTenant;
      const { rowCount } = await client.query(
        `select 1 from api_keys k join send_configs c on c.tenant_id = k.tenant_id
          where k.key_hash = $1 and k.revoked_at is null and c.id = $2 and c.is_default`,
        [await sha256Hex(saved.apiKey), saved.sendConfigId],
      );
      if (rowCount) return saved;
    }
    const tenant = await createTenantWithKey(client, name);
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(tenant, null, 2), { mode: 0o600 });
    return tenant;
  } finally {
    await client.end();
  }
}

/** Also used by integration tests: each test file gets its own tenant, so tests never share state. */
export async function createTenantWithKey(
  client: pg.ClientBase | pg.Pool,
  name: string,
  opts: { mode?: "live" | "test"; from?: string } = {},
): Promise<DemoTenant> {
  const key = await generateApiKey(opts.mode ?? "live");
  const { rows } = await client.query<{ tenant_id: string; send_config_id: string }>(
    `with t as (insert into tenants (name) values ($1) returning id),
          k as (insert into api_keys (tenant_id, name, prefix, key_hash, mode)
                select id, 'default', $2, $3, $4 from t),
          c as (insert into send_configs (tenant_id, name, channel, mode, provider, defaults, is_default)
                select id, 'Managed email (SES)', 'email', 'managed', 'ses', $5::jsonb, true from t returning id)
     select (select id from t) as tenant_id, (select id from c) as send_config_id`,
    [name, key.prefix, key.hash, key.mode, JSON.stringify({ from: opts.from ?? "Demo <hello@demo.batchsender.dev>" })],
  );
  const row = rows[0]!;
  return { tenantId: row.tenant_id, apiKey: key.key, sendConfigId: row.send_config_id };
}
