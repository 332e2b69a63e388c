/**
 * `tenant create <name>`: a tenant with a live and a test key (scope `admin`, each shown once), and
 * `tenant list`. The local stack's demo tenant is made with the same verb (dev/seed.ts).
 */
import type pg from "pg";
import { audit, print, UsageError, type Command } from "../command";
import { createKey } from "./key";

export interface CreatedTenant {
  tenantId: string;
  liveKey: string;
  testKey: string;
}

/** In one transaction: a half-made tenant (no keys) would be unusable and invisible. */
export async function createTenant(db: pg.ClientBase, name: string): Promise<CreatedTenant> {
  await db.query("begin");
  try {
    const { rows } = await db.query<{ id: string }>("insert into tenants (name) values ($1) returning id", [name]);
    const tenantId = rows[0]!.id;
    await audit(db, tenantId, "tenant.created", { type: "tenant", id: tenantId }, { name });
    const live = await createKey(db, { tenantId, name: "live (admin CLI)", scopes: ["admin"], mode: "live" });
    const test = await createKey(db, { tenantId, name: "test (admin CLI)", scopes: ["admin"], mode: "test" });
    await db.query("commit");
    return { tenantId, liveKey: live.secret, testKey: test.secret };
  } catch (err) {
    await db.query("rollback");
    throw err;
  }
}

export interface TenantRow {
  id: string;
  name: string;
  createdAt: string;
  activeKeys: number;
}

export async function listTenants(db: pg.ClientBase): Promise<TenantRow[]> {
  const { rows } = await db.query<{ id: string; name: string; created_at: Date; active_keys: number }>(
    `select t.id, t.name, t.created_at,
            (select count(*)::int from api_keys k where k.tenant_id = t.id and k.revoked_at is null
               and (k.expires_at is null or k.expires_at > now())) as active_keys
       from tenants t order by t.created_at, t.id`,
  );
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at.toISOString(), activeKeys: r.active_keys }));
}

export const tenantCommand: Command = {
  usage: ["tenant create <name>", "tenant list"],
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb === "create") {
      const name = rest.join(" ").trim();
      if (!name || name.length > 200) throw new UsageError("tenant create needs a name (1–200 characters)");
      const t = await createTenant(io.db, name);
      return print(io, { tenant: t.tenantId, liveKey: t.liveKey, testKey: t.testKey });
    }
    if (verb === "list") {
      const tenants = await listTenants(io.db);
      if (io.json) return io.out(JSON.stringify(tenants, null, 2));
      for (const t of tenants) io.out(`${t.id}  ${t.createdAt}  ${String(t.activeKeys).padStart(3)} keys  ${t.name}`);
      return;
    }
    throw new UsageError(`unknown verb tenant ${verb ?? ""}`.trim());
  },
};
