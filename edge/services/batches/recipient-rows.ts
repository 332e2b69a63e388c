/**
 * Writing recipient rows, shared by createBatch and appendRecipients so both apply the same rules: addresses
 * are checked and normalised per channel (core/domain/address.ts), deduped here (first occurrence wins), and are
 * inserted with ONE `INSERT … SELECT … FROM unnest(…)` that marks suppressed addresses, skips addresses the
 * batch already has, and moves the batch counters in the same statement (DESIGN §3).
 */
import { sql } from "drizzle-orm";
import { normalizeAddress, type AddressChannel } from "../../../core/domain/address";
import type { FieldError } from "../../../core/domain/templates";
import { parseTemplate, renderTemplate, TemplateError } from "../../../core/domain/templates";
import type { Executor } from "../../adapters/db";
import type { RecipientInput } from "./create-batch-input";
import { fieldErrors } from "./message-rules";
import { webhookTargetProblem } from "./webhook-target";

export interface DedupedRecipients {
  /** Address → variables, in request order. */
  rows: Map<string, Record<string, unknown>>;
  duplicatesRemoved: number;
}

/**
 * Normalises and dedupes one request's recipients; any bad address is a 422 naming `recipients.N.to`. For
 * webhooks, the payload's URL template is rendered for each recipient and the target checked here, so a
 * private or malformed target is refused at creation rather than failing at send time.
 */
export function normalizeRecipients(channel: AddressChannel, list: readonly RecipientInput[], webhookUrl?: string): DedupedRecipients {
  const rows = new Map<string, Record<string, unknown>>();
  const errors: FieldError[] = [];
  const urlTemplate = channel === "webhook" && webhookUrl ? parseTemplate("text", webhookUrl) : undefined;
  list.forEach((r, i) => {
    const n = normalizeAddress(channel, r.to);
    if (!n.ok) {
      errors.push({ path: `recipients.${i}.to`, message: n.message });
      return;
    }
    const variables = r.variables ?? {};
    if (urlTemplate) {
      let target: string;
      try {
        target = renderTemplate("text", urlTemplate, { ...variables, to: n.address }).trim();
      } catch (err) {
        errors.push({ path: `recipients.${i}`, message: err instanceof TemplateError ? err.message : "message.url does not render" });
        return;
      }
      const problem = webhookTargetProblem(target);
      if (problem) errors.push({ path: `recipients.${i}.to`, message: `message.url renders to ${target.slice(0, 200)}: ${problem}` });
    }
    if (!rows.has(n.address)) rows.set(n.address, variables);
  });
  if (errors.length) throw fieldErrors(errors);
  return { rows, duplicatesRemoved: list.length - rows.size };
}

export interface InsertedRecipients {
  added: number;
  /** Of the added rows, how many were on the tenant's suppression list. */
  suppressed: number;
}

/**
 * The caller holds the batch row (just inserted, or locked `FOR UPDATE` while draft), so the counters cannot
 * race another writer. `ON CONFLICT DO NOTHING` on (batch_id, address) is what skips addresses appended before.
 */
export async function insertRecipients(
  tx: Executor,
  target: { batchId: string; tenantId: string; channel: string },
  rows: Map<string, Record<string, unknown>>,
): Promise<InsertedRecipients> {
  const { batchId, tenantId, channel } = target;
  const res = await tx.execute<{ added: number; suppressed: number }>(sql`
    with ins as (
      insert into recipients (batch_id, tenant_id, address, variables, status)
      select ${batchId}::uuid, ${tenantId}::uuid, r.address, r.vars::jsonb,
             (case when s.address is null then 'pending' else 'suppressed' end)::recipient_status
        from unnest(${sql.param([...rows.keys()])}::text[], ${sql.param([...rows.values()].map((v) => JSON.stringify(v)))}::text[])
             with ordinality as r(address, vars, ord)
        left join suppressions s on s.tenant_id = ${tenantId}::uuid and s.channel = ${channel}::channel and s.address = r.address
             and s.mode = (select b.mode from batches b where b.id = ${batchId}::uuid)
       order by r.ord
      on conflict (batch_id, address) do nothing
      returning status
    )
    update batches
       set total = total + (select count(*) from ins)::int,
           suppressed = suppressed + (select count(*) from ins where status = 'suppressed')::int,
           updated_at = now()
     where id = ${batchId}::uuid and tenant_id = ${tenantId}::uuid
    returning (select count(*) from ins)::int as added,
              (select count(*) from ins where status = 'suppressed')::int as suppressed`);
  const row = res.rows[0];
  return { added: Number(row?.added ?? 0), suppressed: Number(row?.suppressed ?? 0) };
}
