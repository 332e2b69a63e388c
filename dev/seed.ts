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
import { forceVerifyDomain } from "../admin/commands/domain";
import { TENANT_WITH_KEY_SQL, tenantWithKeyParams, type TenantWithKeyRow } from "../test/support/fixture-sql";

export interface DemoTenant {
  tenantId: string;
  apiKey: string;
  sendConfigId: string;
}

/** The demo tenant's `from` domain: verified with the admin CLI's forced verify (no real DNS locally). */
const DEMO_DOMAIN = "demo.batchsender.dev";

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
      if (rowCount) {
        // A demo tenant from before sending domains existed: give it its domain, or the README batch is a 422.
        await forceVerifyDomain(client, { domain: DEMO_DOMAIN, tenantId: saved.tenantId, shared: true });
        return saved;
      }
    }
    const tenant = await createDemoTenant(client, name);
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(tenant, null, 2), { mode: 0o600 });
    return tenant;
  } finally {
    await client.end();
  }
}

/** The demo tenant's rows: the same statement as every test tenant (test/support/fixture-sql.ts). */
async function createDemoTenant(client: pg.ClientBase, name: string): Promise<DemoTenant> {
  const key = await generateApiKey("live");
  const { rows } = await client.query<TenantWithKeyRow>(
    TENANT_WITH_KEY_SQL,
    tenantWithKeyParams({ tenantName: name, key, keyName: "default", configName: "Managed email (SES)", from: `Demo <hello@${DEMO_DOMAIN}>` }),
  );
  const row = rows[0]!;
  return { tenantId: row.tenant_id, apiKey: key.key, sendConfigId: row.send_config_id! };
}
