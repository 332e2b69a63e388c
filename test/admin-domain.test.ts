// `npm run admin -- domain verify --force`: the operator's forced verify (local stacks without real DNS).
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../admin/cli";
import { forceVerifyDomain } from "../admin/commands/domain";
import { localUrls } from "../dev/config";
import { createTenant, testPool } from "./support/fixtures";

const pool = testPool();
afterAll(() => pool.end());
const uniqueDomain = () => `force-${crypto.randomUUID().slice(0, 8)}.example.com`;

async function claims(domain: string) {
  return (await pool.query<{ tenant_id: string; status: string; mode: string }>("select tenant_id, status::text, mode::text from sending_domains where domain = $1", [domain])).rows;
}

describe("domain verify --force", () => {
  it("verifies an existing claim, and adds then verifies one for --tenant", async () => {
    const tenant = await createTenant(pool, "admin-domain");
    const domain = uniqueDomain();
    await pool.query("insert into sending_domains (tenant_id, domain, provider) values ($1, $2, 'ses')", [tenant, domain]);
    const client = await pool.connect();
    try {
      expect(await forceVerifyDomain(client, { domain })).toBe(1);
      expect(await claims(domain)).toEqual([{ tenant_id: tenant, status: "verified", mode: "live" }]);
      const fresh = uniqueDomain();
      expect(await forceVerifyDomain(client, { domain: fresh.toUpperCase(), tenantId: tenant, mode: "test" })).toBe(1);
      expect(await claims(fresh)).toEqual([{ tenant_id: tenant, status: "verified", mode: "test" }]);
    } finally {
      client.release();
    }
  });

  it("refuses another tenant's domain, an unknown one and a malformed one, leaving nothing behind", async () => {
    const [a, b] = [await createTenant(pool, "admin-a"), await createTenant(pool, "admin-b")];
    const domain = uniqueDomain();
    await pool.query("insert into sending_domains (tenant_id, domain, provider) values ($1, $2, 'ses')", [a, domain]);
    const client = await pool.connect();
    try {
      await expect(forceVerifyDomain(client, { domain, tenantId: b })).rejects.toThrow("held by another tenant");
      await expect(forceVerifyDomain(client, { domain: uniqueDomain() })).rejects.toThrow("no tenant has added");
      await expect(forceVerifyDomain(client, { domain: "not a domain" })).rejects.toThrow("domain name");
      expect(await claims(domain)).toEqual([{ tenant_id: a, status: "pending", mode: "live" }]);
    } finally {
      client.release();
    }
  });

  it("the CLI entry: exit 0 on success, 2 on usage errors, 1 on a refusal", async () => {
    const env = { DATABASE_URL: localUrls("test").databaseUrl };
    const tenant = await createTenant(pool, "admin-cli");
    const domain = uniqueDomain();
    expect(await main(["domain", "verify", "--force", domain, "--tenant", tenant], env)).toBe(0);
    expect((await claims(domain))[0]?.status).toBe("verified");
    expect(await main(["domain", "verify", domain], env)).toBe(2);
    expect(await main(["domain", "verify", "--force"], env)).toBe(2);
    expect(await main(["domain", "verify", "--force", uniqueDomain()], env)).toBe(1);
  });
});
