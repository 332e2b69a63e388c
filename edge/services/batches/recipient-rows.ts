/**
 * Writing recipient rows, shared by createBatch and appendRecipients so both apply the same rules: addresses
 * are checked and normalised per channel (core/domain/address.ts), deduped here (first occurrence wins), and are
 * inserted with ONE `INSERT … SELECT … FROM unnest(…)` that marks suppressed addresses, skips addresses the
 * batch already has, and moves the batch counters in the same statement (DESIGN §3).
 */
import { sql } from "drizzle-orm";
import { normalizeAddress, type AddressChannel } from "../../../core/domain/address";
import { LIMITS } from "../../../core/domain/limits";
import { AppError } from "../../../core/domain/problem";
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

export type CheckedRecipient = { ok: true; address: string; variables: Record<string, unknown> } | { ok: false; error: FieldError };

/** What the webhook target of each recipient is checked against: the batch's URL template, parsed once. */
export function webhookUrlTemplate(channel: AddressChannel, webhookUrl?: string) {
  return channel === "webhook" && webhookUrl ? parseTemplate("text", webhookUrl) : undefined;
}

/**
 * One recipient: its address checked and normalised for the channel; for webhooks the payload's URL template
 * is rendered for it and the target checked here, so a private or malformed target is refused at creation
 * rather than failing at send time. Error paths are relative to the recipient (`to`, or "" for the whole).
 */
export function checkRecipient(
  channel: AddressChannel,
  r: RecipientInput,
  urlTemplate: ReturnType<typeof webhookUrlTemplate>,
): CheckedRecipient {
  const n = normalizeAddress(channel, r.to);
  if (!n.ok) return { ok: false, error: { path: "to", message: n.message } };
  const variables = r.variables ?? {};
  if (urlTemplate) {
    let target: string;
    try {
      target = renderTemplate("text", urlTemplate, { ...variables, to: n.address }).trim();
    } catch (err) {
      return { ok: false, error: { path: "", message: err instanceof TemplateError ? err.message : "message.url does not render" } };
    }
    const problem = webhookTargetProblem(target);
    if (problem) return { ok: false, error: { path: "to", message: `message.url renders to ${target.slice(0, 200)}: ${problem}` } };
  }
  return { ok: true, address: n.address, variables };
}

/** Normalises and dedupes one request's recipients (checkRecipient); any bad one is a 422 naming `recipients.N.to`. */
export function normalizeRecipients(channel: AddressChannel, list: readonly RecipientInput[], webhookUrl?: string): DedupedRecipients {
  const rows = new Map<string, Record<string, unknown>>();
  const errors: FieldError[] = [];
  const urlTemplate = webhookUrlTemplate(channel, webhookUrl);
  list.forEach((r, i) => {
    const checked = checkRecipient(channel, r, urlTemplate);
    if (!checked.ok) {
      errors.push({ path: [`recipients.${i}`, checked.error.path].filter(Boolean).join("."), message: checked.error.message });
      return;
    }
    if (!rows.has(checked.address)) rows.set(checked.address, checked.variables);
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
  const res = await tx.execute<{ added: number; suppressed: number; total: number }>(sql`
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
              (select count(*) from ins where status = 'suppressed')::int as suppressed,
              total`);
  const row = res.rows[0];
  // Checked after the statement so duplicates (which add nothing) never count; throwing rolls the caller's
  // transaction back, so a batch never holds more than the cap.
  if (Number(row?.total ?? 0) > LIMITS.recipientsPerBatch) {
    throw new AppError("validation_failed", `A batch holds at most ${LIMITS.recipientsPerBatch} recipients (recipientsPerBatch)`, {
      errors: [{ path: "recipients", message: `at most ${LIMITS.recipientsPerBatch} recipients per batch` }],
    });
  }
  return { added: Number(row?.added ?? 0), suppressed: Number(row?.suppressed ?? 0) };
}
