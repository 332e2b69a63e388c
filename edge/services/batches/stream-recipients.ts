/**
 * appendRecipientRows: a streamed upload (NDJSON or CSV, up to LIMITS.recipientsPerBatch per batch) appended to a draft
 * as the rows arrive, in bounded memory: rows are checked one by one with the rules of inline recipients
 * (RecipientInput's caps, then checkRecipient), collected into statements of up to INSERT_ROWS rows (or
 * INSERT_BYTES of variables), and inserted with the one unnest statement of recipient-rows.ts while the next
 * statement's rows are being parsed. Duplicates (within the upload, or already in the batch) are skipped by
 * its ON CONFLICT and counted. Everything runs in one transaction holding the draft's lock, so the upload
 * lands whole or not at all (a dropped connection or the per-batch cap rolls it back).
 *
 * Bad rows are counted and the first MAX_ROW_ERRORS reported with their line numbers; the good rows are kept,
 * unless `atomic`: then any bad row is a 422 and nothing is stored.
 *
 * Transport-agnostic: rows come from any async source (edge/http/row-stream.ts parses request bodies).
 */
import { AppError } from "../../../core/domain/problem";
import type { ServiceCtx } from "../service-ctx";
import { finishAppend, lockDraftBatch, type AppendCounts, type AppendRecipientsResult, type RowError } from "./append-recipients";
import { RecipientInput } from "./create-batch-input";
import { checkRecipient, insertRecipients, webhookUrlTemplate } from "./recipient-rows";
import { assertBatchIdShape } from "./scope";

/** Large statements amortise the round trip; the byte cap bounds memory when variables are big (16 KiB each). */
export const INSERT_ROWS = 10_000;
const INSERT_BYTES = 4 * 1024 * 1024;
export const MAX_ROW_ERRORS = 100;

export type UploadRow = { line: number; record: Record<string, unknown> } | { line: number; error: string };

export interface AppendRowsInput {
  batchId: string;
  rows: AsyncIterable<UploadRow[]>;
  /** CSV: every column but `to` is a variable (`{ to, name }` → `{ to, variables: { name } }`). */
  flat: boolean;
  atomic: boolean;
}

function asRecipient(record: Record<string, unknown>, flat: boolean): unknown {
  if (!flat) return record;
  const { to, ...variables } = record;
  return { to, variables };
}

export async function appendRecipientRows({ ctx, input }: { ctx: ServiceCtx; input: AppendRowsInput }): Promise<AppendRecipientsResult> {
  assertBatchIdShape(input.batchId);
  const { batchId } = input;
  return ctx.db.transaction(async (tx) => {
    const batch = await lockDraftBatch(tx, ctx, batchId);
    const target = { batchId, tenantId: ctx.tenantId, channel: batch.channel };
    const urlTemplate = webhookUrlTemplate(batch.channel, batch.url ?? undefined);
    const counts: AppendCounts = { added: 0, duplicatesRemoved: 0, suppressed: 0, rejected: 0 };
    const errors: RowError[] = [];
    const reject = (e: RowError) => {
      counts.rejected++;
      if (errors.length < MAX_ROW_ERRORS) errors.push(e);
    };

    let pending = new Map<string, Record<string, unknown>>();
    let pendingBytes = 0;
    let accepted = 0;
    // One statement in flight while the next one's rows are parsed (the transaction's connection runs one at a time).
    let inflight: Promise<void> | undefined;
    const flush = async () => {
      await inflight;
      if (!pending.size) return;
      const rows = pending;
      pending = new Map();
      pendingBytes = 0;
      inflight = insertRecipients(tx, target, rows).then((r) => {
        counts.added += r.added;
        counts.suppressed += r.suppressed;
      });
      inflight.catch(() => {}); // awaited at the next flush; this only keeps it from being reported unhandled meanwhile
    };

    for await (const chunk of input.rows) {
      for (const row of chunk) {
        if ("error" in row) {
          reject({ line: row.line, message: row.error });
          continue;
        }
        const parsed = RecipientInput.safeParse(asRecipient(row.record, input.flat));
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          reject({ line: row.line, path: issue.path.map(String).join(".") || undefined, message: issue.message });
          continue;
        }
        const checked = checkRecipient(batch.channel, parsed.data, urlTemplate);
        if (!checked.ok) {
          reject({ line: row.line, path: checked.error.path || undefined, message: checked.error.message });
          continue;
        }
        accepted++;
        if (pending.has(checked.address)) continue; // the later duplicate is dropped, counted below
        pending.set(checked.address, checked.variables);
        pendingBytes += checked.address.length + (parsed.data.variables ? JSON.stringify(checked.variables).length : 2);
        if (pending.size >= INSERT_ROWS || pendingBytes >= INSERT_BYTES) await flush();
      }
    }
    await flush();
    await inflight;
    counts.duplicatesRemoved = accepted - counts.added;

    if (input.atomic && counts.rejected) {
      const first = errors[0]!;
      throw new AppError(
        "validation_failed",
        `${counts.rejected} row(s) refused, nothing was stored (atomic); first at line ${first.line}: ${first.message}`,
        { errors: errors.map((e) => ({ path: ["line", e.line, e.path].filter((p) => p !== undefined).join("."), message: e.message })) },
      );
    }
    if (accepted === 0 && counts.rejected === 0) throw new AppError("validation_failed", "The upload has no recipients", { errors: [{ path: "body", message: "no rows" }] });
    return finishAppend(tx, ctx, batchId, counts, errors);
  });
}
