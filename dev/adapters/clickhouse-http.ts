/**
 * Local ClickHouse (DESIGN §2): the real ClickHouse engine embedded by the npm package `chdb`, served over
 * ClickHouse's HTTP interface so production code talks to it with the unmodified `@clickhouse/client-web`.
 *
 * The subset of https://clickhouse.com/docs/interfaces/http that the client uses:
 * - `GET /ping` and `GET /` → `Ok.`; `GET|POST /?query=…` with the query in the URL, the body, or the URL
 *   query followed by the body (INSERT data: `INSERT INTO t FORMAT JSONEachRow` + rows), exactly as the server
 *   concatenates them;
 * - `database`, `default_format` (TabSeparated when absent), `query_id`, `param_<name>` (server-side binding
 *   of `{name:Type}`), and every other URL parameter applied as a setting for that query only (e.g.
 *   `insert_deduplication_token`); HTTP-only parameters (`wait_end_of_query`, `compress`, `session_id`…) are
 *   accepted and ignored, since a response is always sent whole;
 * - response headers `X-ClickHouse-Query-Id`, `X-ClickHouse-Format`, `X-ClickHouse-Timezone`,
 *   `X-ClickHouse-Summary`, `X-ClickHouse-Server-Display-Name`;
 * - errors as the server sends them: the status ClickHouse maps the code to (400 parse/syntax, 404 unknown
 *   table/setting, else 500), `X-ClickHouse-Exception-Code`, and a body `Code: N. DB::Exception: … (NAME)`.
 *
 * Data persists in `dataDir` (a chdb Session with a path). Queries run one at a time (session settings and
 * the current database are session state), which is plenty for the local stack and tests.
 */
import http from "node:http";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import { Session } from "chdb";

export interface RunningClickHouse {
  url: string;
  port: number;
  /** The embedded engine's version, e.g. 26.7.2.1. */
  version: string;
  close(): Promise<void>;
}

/** URL parameters that belong to the HTTP interface, not to the query's settings. */
const HTTP_ONLY = new Set([
  "query",
  "database",
  "default_format",
  "query_id",
  "session_id",
  "session_timeout",
  "session_check",
  "user",
  "password",
  "quota_key",
  "compress",
  "decompress",
  "buffer_size",
  "wait_end_of_query",
  "role",
  "enable_http_compression",
  "send_progress_in_http_headers",
  "http_headers_progress_interval_ms",
  "http_wait_end_of_query",
  "add_http_cors_header",
]);

/** ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTPHandler.cpp), for the codes chdb can raise here. */
const BAD_REQUEST = new Set([6, 8, 15, 25, 26, 27, 38, 41, 44, 53, 62, 72, 117, 167, 168, 321, 376]);
const NOT_FOUND = new Set([46, 47, 50, 56, 60, 63, 73, 81, 115]);
function statusForCode(code: number): number {
  if (BAD_REQUEST.has(code)) return 400;
  if (NOT_FOUND.has(code)) return 404;
  if (code === 48) return 501;
  return 500;
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DB_NAME = /^[A-Za-z0-9_]+$/;

function quote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Undoes the escaping of a String parameter (the HTTP interface reads parameter values in escaped format). */
function unescapeParam(s: string): string {
  const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", "0": "\0", a: "\x07", v: "\v", e: "\x1b" };
  return s.replace(/\\(.)/gs, (_, c: string) => map[c] ?? c);
}

/**
 * Server-side parameters (`{name:Type}` ← `param_name`). The value is the type's text in escaped form, as the
 * server parses it: a top-level string is unescaped, anything else is parsed from its text by CAST (chdb's own
 * binding takes values verbatim, so `@clickhouse/client-web`'s escaping would leak into the data).
 */
function bindParams(query: string, params: Record<string, string>): string {
  return query.replace(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+)\}/g, (whole, name: string, rawType: string) => {
    const type = rawType.trim();
    const value = params[name];
    if (value === undefined) {
      throw new Error(`Code: 456. DB::Exception: Substitution \`${name}\` is not set. (UNKNOWN_QUERY_PARAMETER)`);
    }
    if (type === "Identifier") return "`" + value.replace(/`/g, "\\`") + "`";
    if (value === "\\N" && /^(Nullable|LowCardinality\(Nullable)/.test(type)) return `CAST(NULL AS ${type})`;
    if (/^((Nullable|LowCardinality)\()*(String|FixedString\(\d+\))\)*$/.test(type)) return `CAST(${quote(unescapeParam(value))} AS ${type})`;
    return `CAST(${quote(value)} AS ${type})`;
  });
}

interface ChdbError extends Error {
  clickhouseCode?: number;
}

function errorCode(err: unknown): number {
  const e = err as ChdbError;
  if (typeof e?.clickhouseCode === "number") return e.clickhouseCode;
  const m = /Code: (\d+)\./.exec(e?.message ?? "");
  return m ? Number(m[1]) : 1001; // STD_EXCEPTION
}

function errorText(err: unknown, code: number): string {
  const msg = err instanceof Error ? err.message : String(err);
  const text = /^Code: \d+\. DB::Exception:/.test(msg) ? msg : `Code: ${code}. DB::Exception: ${msg}. (STD_EXCEPTION)`;
  return `${text} (version local-chdb)\n`;
}

export async function startClickHouseHttp(opts: {
  host: string;
  port: number;
  /** Folder for the persistent data (created if missing). */
  dataDir: string;
}): Promise<RunningClickHouse> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const session = new Session(opts.dataDir);
  const version = (await session.queryAsync("SELECT version()", { format: "TSVRaw" })).text().trim();
  let tail: Promise<unknown> = Promise.resolve();
  /** Runs `fn` after every earlier request's queries (session state is per-request). */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://local");
    if (url.pathname === "/ping" || (url.pathname === "/" && req.method === "GET" && !url.searchParams.has("query"))) {
      res.writeHead(200, { "Content-Type": "text/html; charset=UTF-8" }).end("Ok.\n");
      return;
    }
    if (url.pathname !== "/" || (req.method !== "POST" && req.method !== "GET")) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=UTF-8" }).end("There is no handle " + url.pathname + "\n");
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const urlQuery = url.searchParams.get("query");
    const query = urlQuery !== null ? (body ? `${urlQuery}\n${body}` : urlQuery) : body;
    const queryId = url.searchParams.get("query_id") || randomUUID();
    const format = url.searchParams.get("default_format") || "TabSeparated";
    const database = url.searchParams.get("database") || "default";
    const params: Record<string, string> = {};
    const settings: [string, string][] = [];
    for (const [k, v] of url.searchParams) {
      if (k.startsWith("param_")) params[k.slice(6)] = v;
      else if (!HTTP_ONLY.has(k)) settings.push([k, v]);
    }
    const baseHeaders = {
      "X-ClickHouse-Query-Id": queryId,
      "X-ClickHouse-Server-Display-Name": "local-chdb",
      "X-ClickHouse-Timezone": "UTC",
    };
    const fail = (err: unknown) => {
      const code = errorCode(err);
      res
        .writeHead(statusForCode(code), {
          ...baseHeaders,
          "Content-Type": "text/plain; charset=UTF-8",
          "X-ClickHouse-Exception-Code": String(code),
        })
        .end(errorText(err, code));
    };
    if (!query.trim()) return fail(new Error("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)"));
    if (!DB_NAME.test(database)) return fail(new Error(`Code: 81. DB::Exception: Database ${database} does not exist. (UNKNOWN_DATABASE)`));
    for (const [k] of settings) {
      if (!SETTING_NAME.test(k)) return fail(new Error(`Code: 115. DB::Exception: Unknown setting '${k}'. (UNKNOWN_SETTING)`));
    }
    let sql = query;
    if (Object.keys(params).length) {
      try {
        sql = bindParams(query, params);
      } catch (err) {
        return fail(err);
      }
    }

    try {
      const result = await serial(async () => {
        const applied: string[] = [];
        try {
          if (database !== "default") await session.queryAsync(`USE ${database}`);
          for (const [k, v] of settings) {
            await session.queryAsync(`SET ${k} = ${quote(v)}`);
            applied.push(k);
          }
          return await session.queryAsync(sql, { format });
        } finally {
          for (const k of applied) await session.queryAsync(`SET ${k} = DEFAULT`).catch(() => {});
          if (database !== "default") await session.queryAsync("USE default").catch(() => {});
        }
      });
      const out = result.bytes();
      const isInsert = /^\s*INSERT\b/i.test(query);
      const written = isInsert ? body.split("\n").filter((l) => l.trim()).length : 0;
      const summary = {
        read_rows: String(result.rowsRead),
        read_bytes: String(result.bytesRead),
        written_rows: String(written),
        written_bytes: String(isInsert ? Buffer.byteLength(body) : 0),
        total_rows_to_read: String(result.rowsRead),
        result_rows: String(isInsert ? written : result.rowsRead),
        result_bytes: String(out.byteLength),
        elapsed_ns: String(Math.round(result.elapsed * 1e9)),
      };
      const fmt = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(isInsert ? "" : query)?.[1] ?? format;
      res
        .writeHead(200, {
          ...baseHeaders,
          "Content-Type": /JSON/i.test(fmt) && !/EachRow|Lines/i.test(fmt) ? "application/json; charset=UTF-8" : "text/plain; charset=UTF-8",
          "X-ClickHouse-Format": fmt,
          "X-ClickHouse-Summary": JSON.stringify(summary),
        })
        .end(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    } catch (err) {
      fail(err);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "X-ClickHouse-Exception-Code": "1001" });
      res.end(errorText(err, 1001));
    });
  });
  // Outlive clients' idle keep-alive sockets so a reused socket is never closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host}:${port}`,
    port,
    version,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tail.catch(() => {});
      session.close();
    },
  };
}

/** `tsx dev/adapters/clickhouse-http.ts [port] [dataDir]`: runs the server on its own. */
if (process.argv[1]?.endsWith("clickhouse-http.ts")) {
  const port = Number(process.argv[2] ?? 8124);
  const dataDir = process.argv[3] ?? ".data/dev/clickhouse";
  startClickHouseHttp({ host: "127.0.0.1", port, dataDir }).then(
    (s) => console.log(`local ClickHouse ${s.version} (chdb) on ${s.url}, data in ${dataDir}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
