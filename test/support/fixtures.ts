/**
 * Rows for fault tests that bypass the edge: a tenant, a send config per provider, and a queued batch whose
 * recipients are inserted with one unnest — the state the edge leaves after `POST /v1/batches/{id}/send`.
 */
import type pg from "pg";
import type { Region } from "../../core/contract";

export type TestProvider = "ses" | "resend" | "telnyx";

export async function createTenant(pool: pg.Pool, label: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>("insert into tenants (name) values ($1) returning id", [
    `${label} ${crypto.randomUUID().slice(0, 8)}`,
  ]);
  return rows[0]!.id;
}

export async function createSendConfig(pool: pg.Pool, tenantId: string, provider: TestProvider): Promise<string> {
  const channel = provider === "telnyx" ? "sms" : "email";
  const defaults = provider === "telnyx" ? { fromNumber: "+12125550100" } : { from: "Fault <fault@demo.batchsender.dev>" };
  const { rows } = await pool.query<{ id: string }>(
    `insert into send_configs (tenant_id, name, channel, mode, provider, defaults)
     values ($1, $2, $3, 'managed', $4, $5) returning id`,
    [tenantId, `managed ${provider}`, channel, provider, JSON.stringify(defaults)],
  );
  return rows[0]!.id;
}

export function addressFor(provider: TestProvider, i: number): string {
  // +1 555 01xx xxxx numbers are reserved for fiction; libphonenumber accepts the 555-2xxx range as valid.
  if (provider === "telnyx") return `+1212555${String(1000 + (i % 9000)).padStart(4, "0")}`;
  return `r${i}@example.com`;
}

export async function createQueuedBatch(
  pool: pg.Pool,
  opts: {
    tenantId: string;
    sendConfigId: string;
    provider: TestProvider;
    count: number;
    region?: Region;
    dryRun?: boolean;
    name?: string;
    offset?: number;
  },
): Promise<string> {
  const channel = opts.provider === "telnyx" ? "sms" : "email";
  const payload =
    channel === "sms"
      ? { channel, text: "Hi {{ name }}" }
      : { channel, from: "Fault <fault@demo.batchsender.dev>", subject: "Hi {{ name }}", text: "Hello {{ name }}" };
  if (opts.provider === "telnyx" && opts.count > 9000) throw new Error("telnyx fixtures have 9,000 distinct numbers");
  const { rows } = await pool.query<{ id: string }>(
    `insert into batches (tenant_id, send_config_id, name, channel, payload, status, total, queued, region, dry_run, queued_at)
     values ($1, $2, $3, $4, $5, 'queued', $6, $6, $7, $8, now()) returning id`,
    [opts.tenantId, opts.sendConfigId, opts.name ?? "fault test", channel, JSON.stringify(payload), opts.count, opts.region ?? "falkenstein", opts.dryRun ?? false],
  );
  const batchId = rows[0]!.id;
  const addresses = Array.from({ length: opts.count }, (_, i) => addressFor(opts.provider, i + (opts.offset ?? 0)));
  await pool.query(
    `insert into recipients (batch_id, tenant_id, address, variables, status)
     select $1, $2, a, jsonb_build_object('name', 'R' || ord), 'queued'
       from unnest($3::text[]) with ordinality as t(a, ord)`,
    [batchId, opts.tenantId, addresses],
  );
  return batchId;
}

export async function batchRow(pool: pg.Pool, batchId: string) {
  const { rows } = await pool.query<{ status: string; total: number; queued: number; sent: number; failed: number; cancelled: number }>(
    "select status, total, queued, sent, failed, cancelled from batches where id = $1",
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
