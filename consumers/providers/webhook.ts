/**
 * Customer HTTP endpoints as a channel: one request per recipient (the recipient address is the URL).
 * 2xx = sent, 4xx (except 408/429) = failed, 5xx/timeouts/network = retry. Redirects are never followed
 * (a 3xx fails the recipient), and every connection goes through the SSRF guard's lookup, so a target can
 * never reach loopback, private, link-local or metadata addresses. `Idempotency-Key` lets receivers dedupe
 * the rare resend after a crash.
 */
import http from "node:http";
import https from "node:https";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "./interface";
import { CircuitBreaker } from "./circuit-breaker";
import { classifyHttpStatus } from "./outcome";
import { BlockedAddressError, guardedLookup, literalHostBlocked } from "./ssrf-guard";

export interface WebhookOptions {
  timeoutMs: number;
  allowedHosts: readonly string[];
  breaker?: CircuitBreaker;
}

interface RawResponse {
  status: number;
  retryAfter?: string;
  body: string;
}

const MAX_RESPONSE_BYTES = 4096;

export function createWebhookClient(opts: WebhookOptions): ProviderClient {
  const breaker = opts.breaker ?? new CircuitBreaker();
  const lookup = guardedLookup(opts.allowedHosts);
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 64, lookup }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 64, lookup }),
  };

  function request(url: URL, m: OutgoingMessage, signal?: AbortSignal): Promise<RawResponse> {
    const wh = m.webhook!;
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method: wh.method,
          agent: agents[url.protocol as "http:" | "https:"],
          headers: {
            "content-type": "application/json",
            "user-agent": "BatchSender-Webhook/1",
            ...wh.headers,
            "idempotency-key": m.idempotencyKey,
          },
          timeout: opts.timeoutMs,
          signal,
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            if (body.length < MAX_RESPONSE_BYTES) body += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })));
      req.on("error", reject);
      req.end(wh.body);
    });
  }

  async function sendOne(m: OutgoingMessage, signal?: AbortSignal): Promise<SendOutcome> {
    const id = m.recipientId;
    if (!m.webhook) return { recipientId: id, status: "failed", reason: "webhook: message without webhook content" };
    let url: URL;
    try {
      url = new URL(m.to);
    } catch {
      return { recipientId: id, status: "failed", reason: `webhook: invalid URL ${m.to}` };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return { recipientId: id, status: "failed", reason: `webhook: unsupported scheme ${url.protocol}` };
    if (literalHostBlocked(url.hostname, opts.allowedHosts)) return { recipientId: id, status: "failed", reason: `webhook: target ${url.hostname} is not a public address` };
    const host = url.host.toLowerCase();
    if (!breaker.allow(host)) return { recipientId: id, status: "retry", reason: `webhook: circuit open for ${host}`, retryAfterMs: breaker.retryAfterMs(host) };
    try {
      const res = await request(url, m, signal);
      if (res.status >= 200 && res.status < 300) {
        breaker.success(host);
        return { recipientId: id, status: "sent", providerMessageId: `webhook:${m.idempotencyKey}` };
      }
      if (res.status >= 300 && res.status < 400) {
        breaker.success(host);
        return { recipientId: id, status: "failed", reason: `webhook ${res.status}: redirects are not followed` };
      }
      const c = classifyHttpStatus(res.status, res.retryAfter);
      const reason = `webhook ${res.status}: ${res.body.slice(0, 200)}`;
      if (c.kind === "retry") {
        breaker.failure(host);
        return { recipientId: id, status: "retry", reason, retryAfterMs: c.retryAfterMs };
      }
      breaker.success(host);
      return { recipientId: id, status: "failed", reason };
    } catch (err) {
      if (err instanceof BlockedAddressError) return { recipientId: id, status: "failed", reason: `webhook: ${err.message}` };
      const e = err as { name?: string; code?: string; message?: string };
      if (e.code === "ENOTFOUND") return { recipientId: id, status: "failed", reason: `webhook: host ${url.hostname} not found` };
      breaker.failure(host);
      return { recipientId: id, status: "retry", reason: `webhook: ${e.name === "TimeoutError" ? "timeout" : (e.code ?? e.message)}` };
    }
  }

  return {
    provider: "webhook",
    maxPerCall: 1,
    async send(messages, signal) {
      return Promise.all(messages.map((m) => sendOne(m, signal)));
    },
  };
}
