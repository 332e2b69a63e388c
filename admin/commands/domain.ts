/**
 * `npm run admin -- domain verify --force <domain> [--tenant <id>] [--mode live|test]`: marks a sending
 * domain verified without asking the provider, for local stacks whose DNS is not real (the demo tenant, a
 * developer's own tenant). With `--tenant` the claim is created first when that tenant has none (as the
 * `POST /v1/domains` verb would, minus the provider call); it refuses a domain another tenant holds, like the API.
 * Never for production: the provider's check is the proof of ownership there.
 */
import type pg from "pg";
import { CommandError, UsageError, type Command } from "../command";
import { DomainName } from "../../core/domain/sending-domains";

export interface DomainVerifyOptions {
  domain: string;
  tenantId?: string;
  mode?: "live" | "test";
  provider?: "ses" | "resend";
  /**
   * The platform's own demo/test domains (dev/seed.ts): every test tenant holds them, so the one-tenant rule
   * does not apply. Never from the command line.
   */
  shared?: boolean;
}

/** Returns how many claims are now verified. Throws with a readable message on a refused request. */
export async function forceVerifyDomain(client: pg.ClientBase, opts: DomainVerifyOptions): Promise<number> {
  const parsed = DomainName.safeParse(opts.domain);
  if (!parsed.success) throw new Error(`${opts.domain}: ${parsed.error.issues[0]?.message}`);
  const domain = parsed.data;
  await client.query("begin");
  try {
    await client.query("select pg_advisory_xact_lock(hashtext($1))", [`sending_domain:${domain}`]);
    if (opts.tenantId && !opts.shared) {
      const other = await client.query("select 1 from sending_domains where domain = $1 and tenant_id <> $2 limit 1", [domain, opts.tenantId]);
      if (other.rowCount) throw new Error(`${domain} is held by another tenant`);
    }
    if (opts.tenantId) {
      await client.query(
        `insert into sending_domains (tenant_id, mode, domain, provider, provider_ref)
         values ($1, $2, $3, $4, $3)
         on conflict (tenant_id, mode, provider, domain) do nothing`,
        [opts.tenantId, opts.mode ?? "live", domain, opts.provider ?? "ses"],
      );
    }
    const res = await client.query(
      `update sending_domains set status = 'verified', verified_at = coalesce(verified_at, now()), last_checked_at = now(), updated_at = now()
        where domain = $1 and ($2::uuid is null or tenant_id = $2::uuid) returning tenant_id`,
      [domain, opts.tenantId ?? null],
    );
    if (!res.rowCount) throw new Error(`no tenant has added ${domain} (pass --tenant <id> to add it)`);
    for (const row of res.rows as { tenant_id: string }[]) {
      await client.query(
        `insert into audit_log (tenant_id, actor, action, target_type, target_id, data)
         values ($1, 'system', 'domain.force_verified', 'sending_domain', $2, '{}'::jsonb)`,
        [row.tenant_id, domain],
      );
    }
    await client.query("commit");
    return res.rowCount;
  } catch (err) {
    await client.query("rollback");
    throw err;
  }
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const USAGE = "domain verify --force <domain> [--tenant <tenant id>] [--mode live|test] [--provider ses|resend]";

/** `domain verify --force`: marks a domain verified without asking the provider (local stacks, support). */
export const domainCommand: Command = {
  usage: [USAGE],
  async run(args, io) {
    const [verb, ...rest] = args;
    const positional = rest.filter((a, i) => !a.startsWith("--") && !["--tenant", "--mode", "--provider"].includes(rest[i - 1] ?? ""));
    if (verb === "verify" && !rest.includes("--force")) throw new UsageError("only --force is supported here: the API's POST /v1/domains/{id}/verify asks the provider");
    if (verb !== "verify" || positional.length !== 1) throw new UsageError("domain verify needs --force and one domain");
    const mode = flag(rest, "--mode");
    const provider = flag(rest, "--provider");
    if (mode && mode !== "live" && mode !== "test") throw new UsageError("--mode is live or test");
    if (provider && provider !== "ses" && provider !== "resend") throw new UsageError("--provider is ses or resend");
    let n: number;
    try {
      n = await forceVerifyDomain(io.db, { domain: positional[0]!, tenantId: flag(rest, "--tenant"), mode: mode as "live" | undefined, provider: provider as "ses" | undefined });
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
    io.out(io.json ? JSON.stringify({ domain: positional[0], verified: true, claims: n }) : `${positional[0]} verified (${n} claim${n === 1 ? "" : "s"})`);
  },
};
