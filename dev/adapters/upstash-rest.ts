/**
 * Local stand-in for Upstash Redis's REST API in front of the local Redis, faithful enough that the
 * unmodified `@upstash/redis` and `@upstash/ratelimit` clients work against it (DESIGN §2, §6):
 *
 * - `POST /` with a JSON command array, `POST /pipeline` and `POST /multi-exec` with arrays of them, and
 *   Upstash's path form (`GET /get/key`, `POST /set/key` with the value as the raw body);
 * - `Authorization: Bearer <token>` (or `?_token=`), else 401 `{"error":"Unauthorized"}`;
 * - `{result}` / `{error}` bodies, 400 on a command error; pipeline and transaction answer an array of them;
 * - `Upstash-Encoding: base64`: every bulk string base64-encoded, integers and nulls untouched, except a
 *   top-level `"OK"` which the client expects verbatim (see `decode` in @upstash/redis's http.ts);
 * - ratelimit's `#!lua flags=allow-key-locking` scripts, via ScriptRegistry.
 *
 * One shared ioredis connection serves every request, so commands that change connection state or block it
 * (SELECT, MULTI, SUBSCRIBE, BLPOP…) are refused. Dev tooling only: never deployed.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { ScriptRegistry, type Arg } from "./upstash-rest-scripts";

export interface UpstashRestOptions {
  host: string;
  port: number;
  redisUrl: string;
  token: string;
}

export interface RunningUpstashRest {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Commands received per upper-case name (as the client sent them, before script translation). */
  commandCounts(): Record<string, number>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

const REFUSED = new Set([
  ...["SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "QUIT", "RESET", "HELLO", "AUTH", "CLIENT", "MONITOR"],
  ...["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "SYNC", "PSYNC"],
  ...["BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "SHUTDOWN"],
]);

class BadRequest extends Error {}

type Reply = { result: unknown } | { error: string };

/** Shapes a Redis reply the way Upstash serialises it. `top` is the value of one `result` field. */
function encodeReply(v: unknown, base64: boolean, top: boolean): unknown {
  if (Buffer.isBuffer(v)) {
    if (top && v.length === 2 && v.toString() === "OK") return "OK";
    return base64 ? v.toString("base64") : v.toString("utf8");
  }
  if (Array.isArray(v)) return v.map((x) => encodeReply(x, base64, false));
  if (v instanceof Error) return v.message;
  return v ?? null;
}

function toArgs(cmd: unknown): Arg[] {
  if (!Array.isArray(cmd) || cmd.length === 0) throw new BadRequest("ERR command must be a non-empty JSON array");
  return cmd.map((a, i) => {
    if (typeof a === "string") return i === 0 ? a.toUpperCase() : a;
    if (typeof a === "number" || typeof a === "boolean") return String(a);
    throw new BadRequest(`ERR argument ${i} must be a string, number or boolean`);
  });
}

export async function startUpstashRest(opts: UpstashRestOptions): Promise<RunningUpstashRest> {
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => {}); // surfaced per request as `{error}`; a down Redis must not crash dev tooling
  await redis.connect();
  const scripts = new ScriptRegistry();
  const counts = new Map<string, number>();
  const tokenDigest = createHash("sha256").update(opts.token).digest();

  const authorized = (req: http.IncomingMessage, url: URL) => {
    const header = req.headers.authorization ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : (url.searchParams.get("_token") ?? "");
    return timingSafeEqual(createHash("sha256").update(given).digest(), tokenDigest);
  };

  const prepare = (raw: unknown) => {
    const args = toArgs(raw);
    const name = args[0]!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (REFUSED.has(name)) throw new BadRequest(`ERR ${name} is not supported by the local Upstash REST adapter`);
    return scripts.translate(args);
  };

  const runOne = async (raw: unknown, base64: boolean): Promise<Reply> => {
    const t = prepare(raw);
    const [name, ...args] = t.args;
    try {
      const r = await redis.callBuffer(name!, ...args);
      return { result: encodeReply(t.mapReply ? t.mapReply(r) : r, base64, true) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };

  const runBatch = async (raw: unknown, base64: boolean, atomic: boolean): Promise<Reply[] | { error: string }> => {
    if (!Array.isArray(raw) || raw.length === 0) throw new BadRequest("ERR body must be a non-empty array of commands");
    const cmds = raw.map(prepare);
    const batch = atomic ? redis.multi() : redis.pipeline();
    for (const c of cmds) batch.callBuffer(c.args[0]!, ...c.args.slice(1));
    let out: [Error | null, unknown][] | null;
    try {
      out = await batch.exec();
    } catch (err) {
      return { error: (err as Error).message }; // EXECABORT: a command was rejected while queueing
    }
    if (!out) return { error: "EXECABORT Transaction discarded" };
    return out.map(([err, r], i) =>
      err ? { error: err.message } : { result: encodeReply(cmds[i]!.mapReply ? cmds[i]!.mapReply!(r) : r, base64, true) },
    );
  };

  const handle = async (req: http.IncomingMessage, body: Buffer): Promise<[number, unknown]> => {
    const url = new URL(req.url ?? "/", "http://local");
    if (!authorized(req, url)) return [401, { error: "Unauthorized" }];
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const path = url.pathname.replace(/\/+$/, "");
    const parseJson = () => {
      try {
        return JSON.parse(body.toString("utf8")) as unknown;
      } catch {
        throw new BadRequest("ERR failed to parse command: body is not valid JSON");
      }
    };
    if (path === "" || path === "/") {
      if (req.method !== "POST") throw new BadRequest("ERR send the command as a JSON array with POST");
      const r = await runOne(parseJson(), base64);
      return ["error" in r ? 400 : 200, r];
    }
    if (path === "/pipeline" || path === "/multi-exec") {
      const r = await runBatch(parseJson(), base64, path === "/multi-exec");
      return [Array.isArray(r) ? 200 : 400, r];
    }
    // Path form: /set/key/value, or /set/key with the value as the raw POST body.
    const parts = path.slice(1).split("/").map(decodeURIComponent);
    if (req.method === "POST" && body.length > 0) parts.push(body.toString("utf8"));
    const r = await runOne(parts, base64);
    return ["error" in r ? 400 : 200, r];
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const reply = (status: number, payload: unknown) => {
      if (res.headersSent) return;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reply(413, { error: "ERR request body too large" });
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => {
      handle(req, Buffer.concat(chunks)).then(
        ([status, payload]) => reply(status, payload),
        (err: unknown) =>
          err instanceof BadRequest ? reply(400, { error: err.message }) : reply(500, { error: `ERR ${(err as Error).message}` }),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host}:${port}`,
    port,
    commandCounts: () => Object.fromEntries(counts),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
