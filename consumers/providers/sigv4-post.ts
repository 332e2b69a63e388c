/**
 * One SigV4-signed JSON `POST` to an AWS REST-JSON endpoint over a keep-alive agent: the part of an AWS SDK
 * call the sender needs, without the SDK's middleware stack (which cost more CPU per SES send than anything
 * but Postgres). Signing is `@smithy/signature-v4`, the SDK's own signer, over node:crypto SHA-256; nothing
 * here computes a signature by hand.
 *
 * Errors: transport failures (connect/TLS errors, resets before the answer, timeouts, aborts) reject with an
 * `Error` whose `name` says which (`TimeoutError`, `AbortError`, or the socket error code). Any HTTP answer
 * resolves, whatever its status, with the body as text; a body cut short by the peer resolves with
 * `truncated: true`, so callers never have to guard their parsing against a half answer.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { getSigningKey, SignatureV4 } from "@smithy/signature-v4";
import { onAbort, onDeadline } from "./deadlines";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS): sent and signed as `x-amz-security-token`. */
  sessionToken?: string;
}

export interface SigV4PostOptions {
  /** Base URL, e.g. `https://email.eu-central-1.amazonaws.com`; a path prefix is kept. */
  endpoint: string;
  region: string;
  service: string;
  credentials: AwsCredentials;
  /** Whole call, from signing to the last body byte. */
  timeoutMs: number;
  /** TCP connect of a new connection (a reused keep-alive connection skips it). */
  connectionTimeoutMs: number;
  maxSockets?: number;
  /** Answers longer than this are cut (and then fail to parse); AWS JSON answers are a few hundred bytes. */
  maxResponseBytes?: number;
}

export interface SigV4Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The peer closed before the end of the body, or the body exceeded `maxResponseBytes`. */
  truncated: boolean;
}

export interface SigV4Poster {
  post(path: string, json: string, signal?: AbortSignal): Promise<SigV4Response>;
  /** Closes pooled connections (tests; production clients live as long as the process). */
  destroy(): void;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(d: SourceData): Buffer {
  if (typeof d === "string") return Buffer.from(d, "utf8");
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(new Uint8Array(d));
}

/** node:crypto behind the signer's `Checksum` interface: a plain hash, or an HMAC when given a key. */
export class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.make();
  }
  private make(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(this.secret));
  }
  update(data: SourceData): void {
    this.h.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.make();
  }
}

function namedError(name: string, message: string, cause?: unknown): Error {
  const e = new Error(message, cause === undefined ? undefined : { cause });
  e.name = name;
  return e;
}

type DateInput = number | string | Date;

/**
 * `@smithy/signature-v4` with two per-call costs removed, the signature itself unchanged (signer.test.ts
 * compares it with a plain `SignatureV4`):
 * - the date strings are formatted once per second, not per call;
 * - the derived signing key is kept per day/region/service on this signer. Smithy's own cache is keyed by an
 *   HMAC of the credentials, computed on every call just to look the key up; one signer has one set of
 *   credentials, so that HMAC is not needed. A miss derives the key with smithy's `getSigningKey`.
 */
class ReusingSigner extends SignatureV4 {
  private dateSecond = Number.NaN;
  private dates = { longDate: "", shortDate: "" };

  protected override formatDate(now: DateInput): { longDate: string; shortDate: string } {
    const ms = now instanceof Date ? now.getTime() : Number.NaN;
    if (!Number.isFinite(ms)) return super.formatDate(now);
    const second = Math.floor(ms / 1000);
    if (second !== this.dateSecond) {
      this.dates = super.formatDate(now);
      this.dateSecond = second;
    }
    return this.dates;
  }
}

export function createSigner(opts: Pick<SigV4PostOptions, "credentials" | "region" | "service">): SignatureV4 {
  const signer = new ReusingSigner({
    credentials: opts.credentials,
    region: opts.region,
    service: opts.service,
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: true, // sends x-amz-content-sha256 like the SDK does
  });
  const keys = new Map<string, Promise<Uint8Array>>();
  // `getSigningKey` is private in smithy's typings, so it is replaced on the instance (same signature).
  Object.assign(signer, {
    getSigningKey: (credentials: AwsCredentials, region: string, shortDate: string, service?: string): Promise<Uint8Array> => {
      const k = `${shortDate}|${region}|${service ?? opts.service}`;
      let key = keys.get(k);
      if (!key) {
        if (keys.size >= 4) keys.clear(); // a day boundary: yesterday's key is no longer used
        key = getSigningKey(NodeSha256, credentials, shortDate, region, service ?? opts.service);
        keys.set(k, key);
      }
      return key;
    },
  });
  return signer;
}

export function createSigV4Poster(opts: SigV4PostOptions): SigV4Poster {
  const base = new URL(opts.endpoint);
  const https = base.protocol === "https:";
  if (!https && base.protocol !== "http:") throw new Error(`sigv4: unsupported endpoint protocol ${base.protocol}`);
  const port = base.port ? Number(base.port) : undefined;
  // The host header as the SDK sends it (no default port); node:http connects to the bare name (no IPv6 brackets).
  const hostHeader = base.host;
  const connectHost = base.hostname.replace(/^\[(.*)\]$/, "$1");
  const prefix = base.pathname.replace(/\/+$/, "");
  const maxBytes = opts.maxResponseBytes ?? 64 * 1024;

  const agentOpts = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: opts.maxSockets ?? 256, scheduling: "lifo" as const, timeout: 30_000 };
  // `timeout` here only retires idle pooled sockets (the agent destroys free sockets that time out) before a
  // server's idle close races a reuse; calls in flight are bounded by `timeoutMs` below.
  const agent = https ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
  const doRequest = https ? httpsRequest : httpRequest;

  const signer = createSigner(opts);

  async function post(path: string, json: string, signal?: AbortSignal): Promise<SigV4Response> {
    const startedAt = Date.now();
    if (signal?.aborted) throw namedError("AbortError", "request aborted before sending");
    const body = Buffer.from(json, "utf8");
    const fullPath = prefix + path;
    const signed = await signer.sign({
      method: "POST",
      protocol: base.protocol,
      hostname: connectHost,
      port,
      path: fullPath,
      query: {},
      headers: { host: hostHeader, "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
    const remaining = opts.timeoutMs - (Date.now() - startedAt);
    return send(fullPath, signed.headers, body, Math.max(1, remaining), signal);
  }

  function send(path: string, headers: Record<string, string>, body: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<SigV4Response> {
    return new Promise<SigV4Response>((resolve, reject) => {
      let settled = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        settled = true;
        cancelDeadline();
        clearTimeout(connectTimer);
        forgetAbort?.();
      };
      const fail = (err: Error) => {
        if (settled) return;
        cleanup();
        // Destroying (not releasing) the socket: whatever it still carries must not reach the next call.
        req.destroy();
        reject(err);
      };
      // One shared deadline sweep for every call in flight (deadlines.ts), not a timer per request.
      const cancelDeadline = onDeadline(timeoutMs, () => fail(namedError("TimeoutError", `no complete answer within ${opts.timeoutMs} ms`)));
      const forgetAbort = signal ? onAbort(signal, () => fail(namedError("AbortError", "request aborted"))) : undefined;
      // Aborted while signing: the shared listener may already have fired without us.
      if (signal?.aborted) {
        cleanup();
        reject(namedError("AbortError", "request aborted before sending"));
        return;
      }

      const req: ClientRequest = doRequest({ agent, method: "POST", host: connectHost, port, path, headers });
      req.on("error", (err: NodeJS.ErrnoException) => fail(namedError(err.code ?? "NetworkingError", err.message, err)));
      req.on("socket", (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(
          () => fail(namedError("TimeoutError", `connection not established within ${opts.connectionTimeoutMs} ms`)),
          opts.connectionTimeoutMs,
        );
        socket.once("connect", () => clearTimeout(connectTimer));
      });
      req.on("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let cut = false;
        res.on("data", (c: Buffer) => {
          if (size + c.length > maxBytes) {
            cut = true; // keep draining so the connection can be reused
            return;
          }
          chunks.push(c);
          size += c.length;
        });
        const finish = (truncated: boolean) => {
          if (settled) return;
          cleanup();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size).toString("utf8"), truncated });
        };
        res.on("end", () => finish(cut));
        // The peer reset mid-body: the status and headers are real, the body is what arrived.
        res.on("error", () => finish(true));
        res.on("close", () => finish(true));
      });
      req.end(body);
    });
  }

  return { post, destroy: () => agent.destroy() };
}
