/**
 * Streamed import bodies → rows with their line numbers, a page at a time, so a file of a million lines never
 * sits in memory whole. Two formats:
 * - CSV (`text/csv`): parsed by csv-parse (its browser build: no node:* imports, runs in workerd), a header
 *   row naming the columns (`address`, optional `channel`, `reason`; case-insensitive, other columns
 *   ignored). A malformed record (unbalanced quotes, wrong column count) is reported with its line and the
 *   import goes on; a broken header stops it.
 * - NDJSON (`application/x-ndjson`): one JSON object per line, same fields.
 * Kept apart from the import verb so helper code for recipient uploads can replace it at merge.
 */
import { parse, type CsvError } from "csv-parse/browser/esm";

export interface ImportRow {
  /** 1-based line of the input where the row ends (the CSV header is line 1). */
  line: number;
  fields?: Record<string, unknown>;
  error?: string;
}

export class ImportFormatError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = "ImportFormatError";
  }
}

/** Longest accepted line/record: an address is ≤ 2048 characters, the rest is short. */
export const MAX_LINE_BYTES = 8 * 1024;

async function* textChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield decodeOrThrow(decoder, value);
    }
    const tail = decodeOrThrow(decoder);
    if (tail) yield tail;
  } finally {
    reader.releaseLock();
  }
}

function decodeOrThrow(decoder: TextDecoder, bytes?: Uint8Array): string {
  try {
    return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
  } catch {
    throw new ImportFormatError("the body is not valid UTF-8");
  }
}

export async function* csvRows(body: ReadableStream<Uint8Array>): AsyncGenerator<ImportRow[]> {
  const parser = parse({
    columns: (header: unknown[]) => header.map((h) => String(h).trim().toLowerCase()),
    bom: true,
    trim: true,
    skip_empty_lines: true,
    // Files from spreadsheets mix line endings; a short row just lacks its optional columns.
    record_delimiter: ["\r\n", "\n", "\r"],
    relax_column_count: true,
    skip_records_with_error: true,
    info: true,
    max_record_size: MAX_LINE_BYTES,
  });
  let out: ImportRow[] = [];
  let failure: CsvError | Error | undefined;
  parser.on("data", (r: { record: Record<string, unknown>; info: { lines: number } }) => out.push({ line: r.info.lines, fields: r.record }));
  parser.on("skip", (err: CsvError & { lines?: number }) => out.push({ line: err.lines ?? 0, error: err.message }));
  parser.on("error", (err: Error) => (failure = err));
  const ended = new Promise<void>((resolve) => {
    parser.on("end", () => resolve());
    parser.on("error", () => resolve());
  });
  const fail = (err: Error & { lines?: number }) => new ImportFormatError(`CSV: ${err.message}`, err.lines);
  for await (const text of textChunks(body)) {
    await new Promise<void>((resolve) => parser.write(text, () => resolve()));
    if (failure) throw fail(failure);
    if (out.length) {
      yield out;
      out = [];
    }
  }
  parser.end();
  await ended;
  if (failure) throw fail(failure);
  if (out.length) yield out;
}

export async function* ndjsonRows(body: ReadableStream<Uint8Array>): AsyncGenerator<ImportRow[]> {
  let pending = "";
  let line = 0;
  const rowOf = (text: string): ImportRow | undefined => {
    line++;
    const s = text.replace(/\r$/, "").trim();
    if (!s) return undefined;
    try {
      const v = JSON.parse(s) as unknown;
      if (v === null || typeof v !== "object" || Array.isArray(v)) return { line, error: "must be a JSON object" };
      return { line, fields: v as Record<string, unknown> };
    } catch {
      return { line, error: "is not valid JSON" };
    }
  };
  for await (const text of textChunks(body)) {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    if (pending.length > MAX_LINE_BYTES) throw new ImportFormatError(`line ${line + 1} is longer than ${MAX_LINE_BYTES} characters`, line + 1);
    const rows = lines.map(rowOf).filter((r): r is ImportRow => r !== undefined);
    if (rows.length) yield rows;
  }
  const last = rowOf(pending);
  if (last) yield [last];
}
