/**
 * The ONE place errors become HTTP (CONVENTIONS 7): AppError → RFC 9457 problem+json with the request id;
 * anything unexpected is logged with its stack and answered with a generic 500 that leaks nothing.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { AppError, toProblem, type ErrorCode } from "../../core/domain/problem";
import type { AppEnv } from "../hono-env";
import { pgErrorCode } from "../adapters/db";
import { ConfigError } from "../env";

/**
 * Postgres errors that bad input can cause (SQLSTATE classes 22 data exception, 23 integrity constraint,
 * 54 program limit) are the caller's problem: 4xx. Anything else from Postgres is ours: 500.
 */
function problemForPgError(code: string): AppError | undefined {
  // Too many connections, starting up/shutting down, connection failures: a retry can help.
  if (code === "53300" || code.startsWith("57P") || code.startsWith("08")) {
    return new AppError("unavailable", "The database is busy; retry shortly", { headers: { "Retry-After": "1" } });
  }
  if (code === "23505") return new AppError("conflict", "The request conflicts with an existing resource");
  if (code === "23503") return new AppError("not_found", "The request refers to a resource that does not exist");
  if (code.startsWith("22") || code.startsWith("23") || code.startsWith("54")) {
    return new AppError("validation_failed", "The request contains a value the database cannot store");
  }
  return undefined;
}

export function problemResponse(c: Context<AppEnv>, err: AppError): Response {
  const requestId = c.get("requestId");
  for (const [k, v] of Object.entries(err.extra.headers ?? {})) c.header(k, v);
  c.header("Content-Type", "application/problem+json");
  c.status(err.status as 400);
  return c.body(JSON.stringify(toProblem(err, requestId, new URL(c.req.url).pathname)));
}

/** zod issues → the field list of a 422 (`recipients.3.to`). */
export function validationError(error: z.ZodError, prefix: (string | number)[] = []): AppError {
  const errors = error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(String).join("."),
    message: i.message,
  }));
  const first = errors[0];
  return new AppError("validation_failed", first ? `${first.path || "body"}: ${first.message}` : undefined, { errors });
}

const httpStatusCodes: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

export function onError(err: unknown, c: Context<AppEnv>): Response {
  if (err instanceof AppError) return problemResponse(c, err);
  if (err instanceof z.ZodError) return problemResponse(c, validationError(err));
  if (err instanceof HTTPException && httpStatusCodes[err.status]) {
    return problemResponse(c, new AppError(httpStatusCodes[err.status]!));
  }
  if (err instanceof ConfigError) {
    // The operator's problem: the log names the settings (never their values); the caller learns nothing
    // about which binding or secret is missing or wrong.
    console.error(`request ${c.get("requestId") ?? "?"}: ${err.message}`);
    return problemResponse(c, new AppError("internal", "An unexpected error occurred."));
  }
  const pgCode = pgErrorCode(err);
  if (pgCode) {
    // Only the SQLSTATE: driver errors quote the statement's parameters (recipients' addresses) and
    // Postgres messages quote the offending value.
    const mapped = problemForPgError(pgCode);
    console.error(`postgres error ${pgCode} (request ${c.get("requestId") ?? "?"})${mapped ? ", answered " + mapped.status : ""}`);
    return problemResponse(c, mapped ?? new AppError("internal", "An unexpected error occurred."));
  }
  console.error(`unhandled error (request ${c.get("requestId") ?? "?"})`, err instanceof Error ? err.stack : err);
  return problemResponse(c, new AppError("internal", "An unexpected error occurred."));
}

export function notFound(c: Context<AppEnv>): Response {
  return problemResponse(c, new AppError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`));
}

/** Registered after a path's real handlers: any other method on a known path is a 405 with `Allow`. */
export function methodNotAllowed(allow: string[]) {
  return (c: Context<AppEnv>): Response =>
    problemResponse(
      c,
      new AppError("method_not_allowed", `${c.req.method} is not allowed here`, { headers: { Allow: allow.join(", ") } }),
    );
}
