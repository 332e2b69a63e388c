/**
 * Batches analytics rows into ClickHouse: one insert per 10,000 rows or per second, whichever comes first
 * (ClickHouse wants few large inserts, not one per event).
 *
 * Guarantees and their trade-offs:
 * - A retried insert is not counted twice: every batch gets an `insert_deduplication_token` when it is cut and
 *   keeps it across retries, so an insert that reached the server but whose answer was lost is dropped by the
 *   server on retry (the table keeps `non_replicated_deduplication_window` recent tokens).
 * - One bad row never drops a batch: rows are validated when written (rejected ones are logged and counted);
 *   if ClickHouse still refuses to parse a batch (schema drift), it is bisected — each half with a token
 *   derived from its parent's — until the bad rows are isolated, logged and counted, and the rest is inserted.
 * - Infra errors (network, 5xx, timeouts) are retried with exponential backoff a bounded number of times;
 *   after that the batch stays at the head of the queue (nothing is dropped) and `flush()` rejects, so the
 *   caller can keep its upstream messages unacked. `write()` waits while the backlog is over `maxBacklogRows`.
 */
import { randomUUID } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client-web";
import { AnalyticsRow, type AnalyticsRowInput } from "./rows";

export interface WriterLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AnalyticsWriterOptions {
  client: ClickHouseClient;
  table?: string;
  maxRows?: number;
  maxDelayMs?: number;
  /** Attempts per insert on infra errors before flush() gives up for now. */
  maxAttempts?: number;
  backoffMs?: number;
  maxBacklogRows?: number;
  /** Off only to exercise the server-side bad-row path in tests. */
  validate?: boolean;
  log?: WriterLog;
}

export interface WriterStats {
  /** Rows acknowledged by ClickHouse (including any it deduplicated on a retry). */
  inserted: number;
  /** Rows refused by validation or isolated as unparseable by ClickHouse. */
  rejected: number;
  inserts: number;
  retries: number;
}

export interface AnalyticsWriter {
  write(rows: AnalyticsRowInput | AnalyticsRowInput[]): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly stats: Readonly<WriterStats>;
  readonly pending: number;
}

interface Batch {
  rows: AnalyticsRow[];
  token: string;
}

/** ClickHouse codes meaning "this data cannot be parsed/converted": a bad row, not a bad server. */
const DATA_ERROR_CODES = new Set([6, 25, 26, 27, 38, 41, 53, 69, 70, 72, 117, 130, 321, 376]);

function isDataError(err: unknown): boolean {
  const code = Number((err as { code?: unknown }).code);
  return Number.isInteger(code) && DATA_ERROR_CODES.has(code);
}

const noLog: WriterLog = { warn() {}, error() {} };

export function createAnalyticsWriter(opts: AnalyticsWriterOptions): AnalyticsWriter {
  const table = opts.table ?? "events";
  const maxRows = opts.maxRows ?? 10_000;
  const maxDelayMs = opts.maxDelayMs ?? 1_000;
  const maxAttempts = opts.maxAttempts ?? 5;
  const backoffMs = opts.backoffMs ?? 200;
  const maxBacklogRows = opts.maxBacklogRows ?? maxRows * 10;
  const log = opts.log ?? noLog;
  const writerId = randomUUID();
  let seq = 0;
  const stats: WriterStats = { inserted: 0, rejected: 0, inserts: 0, retries: 0 };

  let buffer: AnalyticsRow[] = [];
  const ready: Batch[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const cut = () => {
    while (buffer.length) {
      ready.push({ rows: buffer.slice(0, maxRows), token: `${writerId}:${++seq}` });
      buffer = buffer.slice(maxRows);
    }
  };

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const insertOnce = (b: Batch) =>
    opts.client.insert({
      table,
      values: b.rows,
      format: "JSONEachRow",
      clickhouse_settings: { insert_deduplication_token: b.token },
    });

  /** Inserts one batch: retries infra errors, bisects data errors. Rejects when attempts are exhausted. */
  const insertBatch = async (b: Batch): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await insertOnce(b);
        stats.inserts++;
        stats.inserted += b.rows.length;
        return;
      } catch (err) {
        if (isDataError(err)) {
          if (b.rows.length === 1) {
            stats.rejected++;
            log.error({ err: String(err), row: b.rows[0], table }, "analytics row refused by ClickHouse; dropped alone");
            return;
          }
          const mid = Math.ceil(b.rows.length / 2);
          await insertBatch({ rows: b.rows.slice(0, mid), token: `${b.token}.0` });
          await insertBatch({ rows: b.rows.slice(mid), token: `${b.token}.1` });
          return;
        }
        if (attempt >= maxAttempts) throw err;
        stats.retries++;
        const delay = backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        log.warn({ err: String(err), attempt, delayMs: Math.round(delay), rows: b.rows.length }, "analytics insert failed; retrying");
        await sleep(delay);
      }
    }
  };

  const drain = async () => {
    cut();
    while (ready.length) {
      await insertBatch(ready[0]!);
      ready.shift();
    }
  };

  /** One drain at a time; a flush during a drain waits for it and then drains what is left. */
  const flush = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    while (running) await running.catch(() => {});
    if (!buffer.length && !ready.length) return;
    running = drain().finally(() => (running = undefined));
    try {
      await running;
    } finally {
      schedule();
    }
  };

  const schedule = () => {
    if (closed || timer || (!buffer.length && !ready.length)) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush().catch((err: unknown) => log.error({ err: String(err) }, "analytics flush failed; rows kept for the next one"));
    }, maxDelayMs);
    timer.unref?.();
  };

  const pendingRows = () => buffer.length + ready.reduce((n, b) => n + b.rows.length, 0);

  return {
    async write(input) {
      if (closed) throw new Error("analytics writer is closed");
      for (const raw of Array.isArray(input) ? input : [input]) {
        if (opts.validate === false) {
          buffer.push(raw as AnalyticsRow);
          continue;
        }
        const parsed = AnalyticsRow.safeParse(raw);
        if (parsed.success) buffer.push(parsed.data);
        else {
          stats.rejected++;
          log.error({ issues: parsed.error.issues.slice(0, 5), row: raw }, "invalid analytics row rejected");
        }
      }
      if (buffer.length >= maxRows) {
        const f = flush();
        if (pendingRows() > maxBacklogRows) await f;
        else f.catch((err: unknown) => log.error({ err: String(err) }, "analytics flush failed; rows kept for the next one"));
      } else schedule();
    },
    flush,
    async close() {
      await flush();
      closed = true;
      if (timer) clearTimeout(timer);
    },
    get stats() {
      return stats;
    },
    get pending() {
      return pendingRows();
    },
  };
}
