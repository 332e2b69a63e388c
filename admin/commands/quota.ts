/**
 * `quota set <tenant-id> [--active-batches N] [--pending-recipients N] [--sends-per-day N]`: a tenant's plan
 * limits (core/domain/quotas.ts); limits not named keep their current value (the defaults for a new row).
 */
import { parseArgs } from "node:util";
import type pg from "pg";
import { DEFAULT_QUOTAS, QUOTA_NAMES, type QuotaLimits, type QuotaName } from "../../core/domain/quotas";
import { audit, CommandError, print, UsageError, uuidArg, type Command } from "../command";

const MAX_LIMIT = 2_147_483_647;

export async function setQuota(db: pg.ClientBase, tenantId: string, limits: Partial<QuotaLimits>): Promise<QuotaLimits> {
  const { rows } = await db.query<QuotaLimits>(
    `insert into tenant_quotas (tenant_id, active_batches, pending_recipients, sends_per_day)
     select id, coalesce($2::int, $5::int), coalesce($3::int, $6::int), coalesce($4::int, $7::int) from tenants where id = $1
     on conflict (tenant_id) do update set
       active_batches = coalesce($2::int, tenant_quotas.active_batches),
       pending_recipients = coalesce($3::int, tenant_quotas.pending_recipients),
       sends_per_day = coalesce($4::int, tenant_quotas.sends_per_day),
       updated_at = now()
     returning active_batches, pending_recipients, sends_per_day`,
    [
      tenantId,
      limits.active_batches ?? null,
      limits.pending_recipients ?? null,
      limits.sends_per_day ?? null,
      DEFAULT_QUOTAS.active_batches,
      DEFAULT_QUOTAS.pending_recipients,
      DEFAULT_QUOTAS.sends_per_day,
    ],
  );
  if (!rows[0]) throw new CommandError(`no tenant ${tenantId}`);
  await audit(db, tenantId, "quota.set", { type: "tenant", id: tenantId }, { ...limits });
  return rows[0];
}

const flag = (q: QuotaName) => q.replaceAll("_", "-");

export const quotaCommand: Command = {
  usage: [`quota set <tenant-id> ${QUOTA_NAMES.map((q) => `[--${flag(q)} <n>]`).join(" ")}`],
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb !== "set") throw new UsageError(`unknown verb quota ${verb ?? ""}`.trim());
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: Object.fromEntries(QUOTA_NAMES.map((q) => [flag(q), { type: "string" as const }])),
    });
    const tenantId = uuidArg(positionals[0], "tenant-id");
    const limits: Partial<QuotaLimits> = {};
    for (const q of QUOTA_NAMES) {
      const raw = values[flag(q)];
      if (raw === undefined) continue;
      if (typeof raw !== "string" || !/^[0-9]+$/.test(raw) || Number(raw) > MAX_LIMIT) throw new UsageError(`--${flag(q)} must be a whole number up to ${MAX_LIMIT}`);
      limits[q] = Number(raw);
    }
    if (!Object.keys(limits).length) throw new UsageError(`quota set needs at least one of ${QUOTA_NAMES.map((q) => `--${flag(q)}`).join(", ")}`);
    const result = await setQuota(io.db, tenantId, limits);
    return print(io, { tenant: tenantId, ...result });
  },
};
