/**
 * Streamed request bodies → rows, as the body arrives (bounded memory: one network chunk of text plus the rows
 * it completed). Shared by the recipient upload and, later, the suppression import.
 *
 * - `application/x-ndjson`: one JSON object per line; a line that is not a JSON object is a row error.
 * - `text/csv`: the first row is the header (column names), parsed with papaparse; every later record
 *   becomes an object keyed by column name. A record whose field count differs from the header's, or whose
 *   quotes are malformed, is a row error.
 *
 * `line` is the line number in the body, 1-based (for CSV the header is line 1, and a quoted value spanning
 * several lines counts as one line). Blank lines are skipped but counted. Row errors never stop the stream;
 * what stops it is a problem with the body as a whole: too large (413), not UTF-8 (400), a CSV header without
 * the required columns or with duplicate names (422).
 */
import Papa from "papaparse";
import { AppError } from "../../core/domain/problem";
import { jsonProblem } from "./json-body";

export type RowFormat = "ndjson" | "csv";

export const STREAM_MEDIA_TYPES: Record<string, RowFormat> = { "application/x-ndjson": "ndjson", "text/csv": "csv" };

/** The row format of a streamed body's Content-Type, or undefined for anything else (JSON included). */
export function streamFormat(contentType: string | undefined): RowFormat | undefined {
  const essence = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return STREAM_MEDIA_TYPES[essence];
}

export type StreamedRow = { line: number; record: Record<string, unknown> } | { line: number; error: string };

export interface RowStreamOptions {
  /** Counted as the body is read (a declared Content-Length over it is refused before reading: tooLarge). */
  maxBytes: number;
  /** CSV columns the header must name (e.g. `to`). */
  requiredColumns?: readonly string[];
  /** Compare CSV column names case-insensitively (lowercased): for fixed fields, not for variable names. */
  lowercaseHeader?: boolean;
}

/** A 413 for a declared Content-Length over the limit, before any work; the byte count while reading backs it up. */
export function assertDeclaredLength(contentLength: string | undefined, maxBytes: number): void {
  if (contentLength && Number(contentLength) > maxBytes) {
    throw new AppError("payload_too_large", `The request body exceeds ${maxBytes} bytes`);
  }
}

/** Rows in body order, one array per network chunk (so the consumer awaits once per chunk, not per row). */
export async function* streamRows(
  body: ReadableStream<Uint8Array> | null,
  format: RowFormat,
  opts: RowStreamOptions,
): AsyncGenerator<StreamedRow[]> {
  if (!body) throw new AppError("bad_request", "The request body is empty");
  const parser = format === "csv" ? csvRows(opts.requiredColumns ?? [], opts.lowercaseHeader ?? false) : ndjsonRows();
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const reader = body.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > opts.maxBytes) throw new AppError("payload_too_large", `The request body exceeds ${opts.maxBytes} bytes`);
      const rows = parser.push(decode(decoder, value));
      if (rows.length) yield rows;
    }
    if (bytes === 0) throw new AppError("bad_request", "The request body is empty");
    const rows = parser.push(decode(decoder), true);
    if (rows.length) yield rows;
  } finally {
    // Stop reading on any exit (error, consumer gave up): the rest of the body is discarded.
    reader.cancel().catch(() => {});
  }
}

function decode(decoder: TextDecoder, chunk?: Uint8Array): string {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  } catch {
    throw new AppError("bad_request", "The request body is not valid UTF-8");
  }
}

interface RowParser {
  /** Text in, completed rows out; `end` flushes the last line. */
  push(text: string, end?: boolean): StreamedRow[];
}

/** NUL characters and lone surrogates (Postgres rejects both) make a row an error, not a 5xx later. */
function checked(line: number, record: Record<string, unknown>): StreamedRow {
  const problem = jsonProblem(record);
  return problem ? { line, error: `${problem.path}: ${problem.message}` } : { line, record };
}

function ndjsonRows(): RowParser {
  let partial = "";
  let line = 0;
  return {
    push(text, end = false) {
      const lines = (partial + text).split("\n");
      partial = end ? "" : lines.pop()!;
      const rows: StreamedRow[] = [];
      for (const raw of lines) {
        line++;
        const source = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        if (!source.trim()) continue;
        let value: unknown;
        try {
          value = JSON.parse(source);
        } catch (err) {
          rows.push({ line, error: `malformed JSON: ${(err as Error).message}` });
          continue;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) rows.push({ line, error: "each line must be a JSON object" });
        else rows.push(checked(line, value as Record<string, unknown>));
      }
      return rows;
    },
  };
}

/**
 * papaparse's streaming mode (Papa.parse of a readable source) runs its parser synchronously on each chunk
 * handed to the source's `data` listener, so a minimal readable façade lets it consume a Web stream.
 */
function csvRows(requiredColumns: readonly string[], lowercaseHeader: boolean): RowParser {
  const listeners: Record<string, (arg?: unknown) => void> = {};
  const source = {
    readable: true,
    read: () => null,
    on: (event: string, fn: (arg?: unknown) => void) => void (listeners[event] = fn),
    removeListener: () => {},
    pause: () => {},
    resume: () => {},
  };
  let header: string[] | undefined;
  let line = 0;
  let out: StreamedRow[] = [];
  let failure: unknown;
  Papa.parse(source as unknown as NodeJS.ReadableStream, {
    header: false,
    skipEmptyLines: false,
    step: (result: Papa.ParseStepResult<string[]>) => {
      line++;
      const fields = result.data;
      if (fields.length === 1 && fields[0] === "") return; // a blank line
      if (!header) {
        header = checkHeader(lowercaseHeader ? fields.map((f) => f.toLowerCase()) : fields, requiredColumns);
        return;
      }
      const quoteError = result.errors.find((e) => e.type === "Quotes");
      if (quoteError) out.push({ line, error: `malformed CSV: ${quoteError.message}` });
      else if (fields.length !== header.length) {
        out.push({ line, error: `the row has ${fields.length} fields; the header has ${header.length}` });
      } else {
        const record: Record<string, string> = {};
        header.forEach((name, i) => (record[name] = fields[i]!));
        out.push(checked(line, record));
      }
    },
    error: (err: Error) => void (failure = err),
  });
  return {
    push(text, end = false) {
      if (text) listeners.data?.(text);
      if (end) listeners.end?.();
      if (failure) throw failure instanceof AppError ? failure : new AppError("bad_request", `Malformed CSV: ${String(failure)}`);
      if (end && !header) throw new AppError("validation_failed", "The CSV body has no header row", { errors: [{ path: "header", message: "missing" }] });
      const rows = out;
      out = [];
      return rows;
    },
  };
}

function checkHeader(fields: string[], required: readonly string[]): string[] {
  const names = fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, "") : f).trim());
  const errors: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (!name) errors.push({ path: `header.${i + 1}`, message: "empty column name" });
    else if (seen.has(name)) errors.push({ path: `header.${i + 1}`, message: `duplicate column ${name}` });
    seen.add(name);
  });
  for (const name of required) if (!seen.has(name)) errors.push({ path: "header", message: `no \`${name}\` column` });
  if (errors.length) {
    throw new AppError("validation_failed", `CSV header: ${errors.map((e) => e.message).join("; ")}`, { errors });
  }
  return names;
}
