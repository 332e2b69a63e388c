/**
 * importSuppressions: a streamed CSV or NDJSON body → the caller's suppression list, 1,000 rows per
 * statement as the body arrives (edge/http/row-stream.ts, the recipient upload's parser), so memory stays flat
 * however long the file.
 *
 * Each row is normalised like a recipient's `to` (core/domain/address.ts); a bad row is rejected with its line
 * number and the import goes on. Rows already on the list, or repeated in the file, count as duplicates and
 * keep their first entry. Pages commit as they go: an import cut short (client gone, database error) has
 * applied its earlier pages, and sending the same file again is harmless — that is why this POST needs no
 * Idempotency-Key.
 */
import { sql } from "drizzle-orm";
import { SUPPRESSION_REASONS, type SuppressionReason } from "../../../core/domain/suppressions";
import type { ServiceCtx } from "../service-ctx";
import { LIMITS } from "../../../core/domain/limits";
import { streamRows, type StreamedRow } from "../../http/row-stream";
import { normalizeAddress } from "../../../core/domain/address";
import type { Channel } from "./suppression-view";

export const IMPORT_PAGE_ROWS = 1_000;
export const MAX_IMPORT_ROWS = 1_000_000;
/** Errors reported in the answer; the count (`rejected`) covers all of them. */
export const MAX_REPORTED_ERRORS = 1_000;

const CHANNELS: readonly Channel[] = ["email", "sms", "webhook"];

export interface ImportSuppressionsInput {
  body: ReadableStream<Uint8Array>;
  format: "csv" | "ndjson";
  /** For rows that name none. */
  channel: Channel;
  reason: SuppressionReason;
}

export interface ImportResult {
  object: "suppression_import";
  rows: number;
  added: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; message: string }[];
  errorsTruncated: boolean;
}

interface Valid {
  channel: Channel;
  address: string;
  reason: SuppressionReason;
}

function validate(row: StreamedRow, defaults: { channel: Channel; reason: SuppressionReason }): Valid | string {
  if ("error" in row) return row.error;
  const f = row.record;
  const channel = f.channel === undefined || f.channel === "" ? defaults.channel : f.channel;
  if (!CHANNELS.includes(channel as Channel)) return `channel must be one of ${CHANNELS.join(", ")}`;
  const reason = f.reason === undefined || f.reason === "" ? defaults.reason : f.reason;
  if (!SUPPRESSION_REASONS.includes(reason as SuppressionReason)) return `reason must be one of ${SUPPRESSION_REASONS.join(", ")}`;
  if (typeof f.address !== "string" || !f.address) return "address is missing";
  const n = normalizeAddress(channel as Channel, f.address);
  return n.ok ? { channel: channel as Channel, address: n.address, reason: reason as SuppressionReason } : `address ${n.message}`;
}

export async function importSuppressions({ ctx, input }: { ctx: ServiceCtx; input: ImportSuppressionsInput }): Promise<ImportResult> {
  const result: ImportResult = { object: "suppression_import", rows: 0, added: 0, duplicates: 0, rejected: 0, errors: [], errorsTruncated: false };
  const reject = (line: number, message: string) => {
    result.rejected++;
    if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ line, message });
    else result.errorsTruncated = true;
  };
  let page: Valid[] = [];
  const flush = async () => {
    if (!page.length) return;
    const added = await insertPage(ctx, page);
    result.added += added;
    result.duplicates += page.length - added;
    page = [];
  };
  const source = streamRows(input.body, input.format, { maxBytes: LIMITS.streamedBodyBytes, requiredColumns: ["address"], lowercaseHeader: true });
  try {
    outer: for await (const rows of source) {
      for (const row of rows) {
        if (result.rows >= MAX_IMPORT_ROWS) {
          reject(row.line, `the import limit of ${MAX_IMPORT_ROWS} rows was reached; the rest of the body was not read`);
          break outer;
        }
        result.rows++;
        const v = validate(row, input);
        if (typeof v === "string") reject(row.line, v);
        else page.push(v);
        if (page.length >= IMPORT_PAGE_ROWS) await flush();
      }
    }
    await flush();
  } finally {
    // Rows read before a body-level problem (too large, not UTF-8, bad header) stay imported; the problem is the answer.
    await flush().catch(() => {});
  }
  return result;
}

async function insertPage(ctx: ServiceCtx, rows: Valid[]): Promise<number> {
  const res = await ctx.db.execute<{ added: number }>(sql`
    with ins as (
      insert into suppressions (tenant_id, mode, channel, address, reason, source)
      select ${ctx.tenantId}::uuid, ${ctx.mode}::api_key_mode, r.channel::channel, r.address, r.reason, ${`import by ${ctx.actor}`}
        from unnest(${sql.param(rows.map((r) => r.channel))}::text[], ${sql.param(rows.map((r) => r.address))}::text[],
                    ${sql.param(rows.map((r) => r.reason))}::text[]) as r(channel, address, reason)
      on conflict do nothing
      returning 1
    )
    select count(*)::int as added from ins`);
  return Number(res.rows[0]?.added ?? 0);
}
