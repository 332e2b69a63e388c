/**
 * First middleware: a request id (returned as `Request-Id`), the W3C trace id (taken from a valid
 * `traceparent` or generated) and the validated configuration. Misconfiguration throws ConfigError, which the
 * error handler answers with a readable 500: the Worker fails closed.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../hono-env";
import { loadConfig } from "../env";

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function traceIdFrom(traceparent: string | undefined): string {
  const m = TRACEPARENT.exec(traceparent?.trim().toLowerCase() ?? "");
  // All-zero ids are invalid per the W3C spec.
  if (m?.[1] && !/^0+$/.test(m[1])) return m[1];
  return randomHex(16);
}

export const initRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const requestId = crypto.randomUUID();
  c.set("requestId", requestId);
  c.header("Request-Id", requestId);
  c.set("traceId", traceIdFrom(c.req.header("traceparent")));
  c.set("config", loadConfig(c.env));
  await next();
};
