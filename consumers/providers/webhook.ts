/**
 * Customer HTTP endpoints as a channel: one request per recipient (the recipient address is the URL).
 * 2xx = sent, 4xx (except 408/429) = failed, 5xx/timeouts/network = retry. Redirects are never followed
 * (a 3xx fails the recipient), and every connection goes through the SSRF guard's lookup, so a target can
 * never reach loopback, private, link-local or metadata addresses (nor internal-service ports:
 * core/domain/webhook-target.ts). `timeoutMs` is a TOTAL deadline for the whole exchange (connect, request,
 * response headers and body): an endpoint that trickles bytes cannot hold a sender slot past it. Only the
 * first 4 KiB of a response body are read. `Idempotency-Key` lets receivers dedupe the rare resend after a
 * crash.
 */
import http from "node:http";
import https from "node:https";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "./interface";
import { CircuitBreaker } from "./circuit-breaker";
import { classifyHttpStatus } from "./outcome";
import { webhookTargetProblem } from "../../core/domain/webhook-target";
import { BlockedAddressError, guardedLookup } from "./ssrf-guard";

export interface WebhookOptions {
  /** Total deadline of one request, from connect to the end of the (capped) response body. */
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
      let settled = false;
      const finish = (err: Error | undefined, value?: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (err) reject(err);
        else resolve(value!);
      };
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
          signal,
        },
        (res) => {
          let body = "";
          const done = () => finish(undefined, { status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body });
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            body += c;
            if (body.length >= MAX_RESPONSE_BYTES) {
              // Enough to classify and report: stop reading (the socket is not reused).
              body = body.slice(0, MAX_RESPONSE_BYTES);
              done();
              res.destroy();
            }
          });
          res.on("end", done);
          res.on("error", (err) => finish(err));
          res.on("close", () => {
            if (!res.complete) finish(Object.assign(new Error("response aborted"), { code: "ECONNRESET" }));
          });
        },
      );
      // A total deadline, not an idle timeout: a byte every second keeps an idle timer from ever firing.
      const deadline = setTimeout(() => {
        const err = Object.assign(new Error("timeout"), { name: "TimeoutError" });
        finish(err);
        req.destroy(err);
      }, opts.timeoutMs);
      req.on("error", (err) => finish(err));
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
      return { recipientId: id, status: "failed", reason: `webhook: invalid URL ${m.to.slice(0, 200)}` };
    }
    // Scheme, port and literal-address rules, the same the edge applies at creation.
    const problem = webhookTargetProblem(url, opts.allowedHosts);
    if (problem) return { recipientId: id, status: "failed", reason: `webhook: ${problem}` };
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
