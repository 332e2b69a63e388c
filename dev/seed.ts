/**
 * The demo tenant of the local stack, made with the operators' verb (`npm run admin -- tenant create`,
 * admin/commands/tenant.ts: a tenant with a live and a test key, scope `admin`) plus a default managed email
 * send config (SES through the sandbox). The live key is shown once by design (only its hash is stored), so
 * the stack keeps the plaintext in its data folder to print it again on the next `npm start`; a missing or
 * stale file means a new key.
 */
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { forceVerifyDomain } from "../admin/commands/domain";
import { createTenant } from "../admin/commands/tenant";
import { sha256Hex } from "../core/domain/api-keys";

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

/** The demo tenant's rows: `tenant create` and the default email config the demo curl uses. */
async function createDemoTenant(client: pg.ClientBase, name: string): Promise<DemoTenant> {
  const tenant = await createTenant(client, name);
  const { rows } = await client.query<{ id: string }>(
    `insert into send_configs (tenant_id, name, channel, mode, provider, defaults, is_default)
     values ($1, 'Managed email (SES)', 'email', 'managed', 'ses', $2, true) returning id`,
    [tenant.tenantId, JSON.stringify({ from: `Demo <hello@${DEMO_DOMAIN}>` })],
  );
  await forceVerifyDomain(client, { domain: DEMO_DOMAIN, tenantId: tenant.tenantId, shared: true });
  return { tenantId: tenant.tenantId, apiKey: tenant.liveKey, sendConfigId: rows[0]!.id };
}
