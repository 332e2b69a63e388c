/**
 * The provider sandbox: one in-memory HTTP server that speaks SES v2, Resend and Telnyx faithfully enough for
 * the production clients to run unchanged against it, and records every accepted message for tests and
 * people to inspect (`GET /messages`). `/_sandbox/*` injects rate limits, latency and faults; production code
 * never calls it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sandboxCredentials } from "../config";
import { CloudflareSandbox } from "./cloudflare";
import { SandboxControl } from "./control";
import type { SandboxState } from "./flow";
import { BodyTooLargeError, problem, readBody, writeReply, parseJson } from "./http";
import { IdempotencyStore } from "./idempotency";
import { IdentityStore } from "./identities";
import { applyIdentityControl } from "./identity-control";
import { handleResendDomains, isResendDomainsPath } from "./resend-domains";
import { handleSesIdentity, sesIdentityOperation } from "./ses-identities";
import { handleResend } from "./resend";
import { handleSesSendEmail } from "./ses";
import { MessageStore } from "./store";
import { handleTelnyx } from "./telnyx";
import { attachEvents, routeEvents } from "./events";
import { PROVIDERS, SandboxConfigPatch, type MessageFilter, type Provider, type Reply, type SandboxCredentials, type SandboxMessage } from "./types";

export type { MessageFilter, SandboxCredentials, SandboxMessage } from "./types";

export interface Sandbox {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Recorded messages in arrival order; all of them unless `limit` is given. */
  messages(filter?: MessageFilter): SandboxMessage[];
  /** Clears messages, configuration (rate limits, latency, faults, added keys) and idempotency state. */
  reset(): void;
}

export interface SandboxOptions {
  host: string;
  port: number;
  /** Accepted in addition to the managed keys of `dev/config.ts`. */
  credentials?: SandboxCredentials;
}

/** A held ("timeout" fault) request is dropped without an answer after this long. */
const HOLD_MS = 30_000;
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 200_000;

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const c = opts.credentials ?? {};
  const state: SandboxState = {
    store: new MessageStore(),
    idempotency: new IdempotencyStore(),
    identities: new IdentityStore(),
    control: new SandboxControl({
      ses: [{ ...sandboxCredentials.ses }, ...(c.ses ?? [])],
      resend: [sandboxCredentials.resend.apiKey, ...(c.resend ?? [])],
      telnyx: [sandboxCredentials.telnyx.apiKey, ...(c.telnyx ?? [])],
    }),
  };
  const cloudflare = new CloudflareSandbox();
  const reset = () => {
    cloudflare.reset();
    state.store.clear();
    state.idempotency.clear();
    state.identities.clear();
    state.control.reset();
  };
  const held = new Set<() => void>();

  const server = createServer((req, res) => {
    handle(state, reset, req, res, held, cloudflare).catch((err: unknown) => {
      console.error("sandbox: unhandled error", err);
      if (!res.headersSent) writeReply(res, problem(500, "Internal server error"));
      else res.destroy();
    });
  });
  // Clients keep connections alive across thousands of sends; outlive their idle timeouts.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  attachEvents(state, `http://${opts.host}:${port}`); // provider webhooks, off until POST /_sandbox/events
  return {
    url: `http://${opts.host}:${port}`,
    port,
    messages: (filter) => state.store.list(filter).data,
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of held) release();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(state: SandboxState, reset: () => void, req: IncomingMessage, res: ServerResponse, held: Set<() => void>, cloudflare: CloudflareSandbox): Promise<void> {
  const url = new URL(req.url ?? "/", "http://sandbox");
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return writeReply(res, problem(413, "Payload too large", err.message));
    throw err;
  }
  const reply = cloudflare.handle(req.method ?? "GET", url, req.headers, body) ?? (await route(state, reset, req, url, body));
  if (reply.hold) return hold(req, res, held);
  writeReply(res, reply);
}

function route(state: SandboxState, reset: () => void, req: IncomingMessage, url: URL, body: Buffer): Promise<Reply> | Reply {
  const { method = "GET" } = req;
  const path = url.pathname;
  const key = `${method} ${path}`;
  if (path.startsWith("/_sandbox/events")) return routeEvents(state, method, path + url.search, body).then((r) => r!);
  const sesIdentity = sesIdentityOperation(method, path);
  if (sesIdentity) {
    const signed = { method, host: req.headers.host ?? "", path, query: Object.fromEntries(url.searchParams), headers: req.headers, body };
    return handleSesIdentity(state, signed, sesIdentity);
  }
  if (isResendDomainsPath(path)) return handleResendDomains(state, method, path, req.headers, body);
  if (path === "/_sandbox/identities" || path === "/_sandbox/identities/verify") return applyIdentityControl(state, method, path, body);
  switch (key) {
    case "POST /v2/email/outbound-emails":
      return handleSesSendEmail(state, {
        method,
        host: req.headers.host ?? "",
        path,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
      });
    case "POST /emails":
      return handleResend(state, "single", req.headers, body);
    case "POST /emails/batch":
      return handleResend(state, "batch", req.headers, body);
    case "POST /v2/messages":
      return handleTelnyx(state, req.headers, body);
    case "GET /health":
      return { status: 200, body: { status: "ok", messages: state.store.count().total } };
    case "GET /messages":
      return listMessages(state, url.searchParams);
    case "GET /messages/count":
      return { status: 200, body: state.store.count(url.searchParams.get("batchId") ?? undefined) };
    case "DELETE /messages":
      state.store.clear();
      return { status: 204 };
    case "GET /_sandbox/config":
      return { status: 200, body: state.control.snapshot() };
    case "POST /_sandbox/config":
      return applyConfig(state, body);
    case "POST /_sandbox/reset":
      reset();
      return { status: 204 };
  }
  const known = ["/v2/email/outbound-emails", "/emails", "/emails/batch", "/v2/messages", "/health", "/messages", "/messages/count", "/_sandbox/config", "/_sandbox/reset"];
  if (known.includes(path)) return problem(405, "Method not allowed", `${method} is not allowed on ${path}`);
  return problem(404, "Not found", `no sandbox route for ${method} ${path}`);
}

function listMessages(state: SandboxState, q: URLSearchParams): Reply {
  const provider = q.get("provider") ?? undefined;
  if (provider !== undefined && !PROVIDERS.includes(provider as Provider)) {
    return problem(400, "Bad request", `provider must be one of ${PROVIDERS.join(", ")}`, [{ path: "provider", message: "unknown provider" }]);
  }
  const int = (name: string, def: number, max: number): number | Reply => {
    const v = q.get(name);
    if (v === null) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max) return problem(400, "Bad request", `${name} must be an integer between 0 and ${max}`, [{ path: name, message: "out of range" }]);
    return n;
  };
  const limit = int("limit", DEFAULT_LIMIT, MAX_LIMIT);
  if (typeof limit !== "number") return limit;
  const offset = int("offset", 0, Number.MAX_SAFE_INTEGER);
  if (typeof offset !== "number") return offset;
  const filter: MessageFilter = {
    provider: provider as Provider | undefined,
    to: q.get("to") ?? undefined,
    batchId: q.get("batchId") ?? undefined,
    recipientId: q.get("recipientId") ?? undefined,
    limit,
    offset,
  };
  return { status: 200, body: state.store.list(filter) };
}

function applyConfig(state: SandboxState, body: Buffer): Reply {
  const json = parseJson(body);
  if (json === undefined) return problem(400, "Bad request", "body must be JSON");
  const parsed = SandboxConfigPatch.safeParse(json);
  if (!parsed.success) {
    return problem(422, "Validation failed", "invalid sandbox configuration", parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
  }
  state.control.apply(parsed.data);
  return { status: 200, body: state.control.snapshot() };
}

/** Fault "timeout": answer nothing; drop the connection after HOLD_MS or when the client gives up first. */
function hold(req: IncomingMessage, res: ServerResponse, held: Set<() => void>): void {
  const release = () => {
    clearTimeout(timer);
    held.delete(release);
    if (!res.writableEnded) res.destroy();
  };
  const timer = setTimeout(release, HOLD_MS);
  held.add(release);
  res.on("close", release);
  req.socket.on("close", release);
}
