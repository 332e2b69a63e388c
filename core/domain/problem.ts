/**
 * The closed set of error codes and their one mapping to HTTP (RFC 9457 problem+json). Route handlers and
 * verbs throw `AppError(code, detail)`; only the edge's error handler turns it into a response.
 *
 * Edge-safe: no node:* imports.
 */
export const errorCodes = {
  bad_request: { status: 400, title: "Bad request" },
  validation_failed: { status: 422, title: "Validation failed" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  rate_limited: { status: 429, title: "Too many requests" },
  quota_exceeded: { status: 429, title: "Quota exceeded" },
  internal: { status: 500, title: "Internal server error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: ErrorCode;
  requestId?: string;
  /** Field-level problems for validation errors: `{ path: "recipients.3.to", message: "…" }`. */
  errors?: { path: string; message: string }[];
  /** 403 `forbidden` for a missing scope: the scope the route needs. */
  scope?: string;
  /** 429 `quota_exceeded`: which quota, its limit, current use and when it resets (null: when work finishes). */
  quota?: string;
  limit?: number;
  used?: number;
  resetsAt?: string | null;
}

/** RFC 9457 extension members a problem may carry besides the standard ones. */
export type ProblemMembers = Pick<ProblemDetails, "scope" | "quota" | "limit" | "used" | "resetsAt">;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly extra: { errors?: ProblemDetails["errors"]; headers?: Record<string, string>; members?: ProblemMembers } = {},
  ) {
    super(detail ?? errorCodes[code].title);
    this.name = "AppError";
  }

  get status(): number {
    return errorCodes[this.code].status;
  }
}

export const PROBLEM_TYPE_BASE = "https://docs.batchsender.com/errors/";

export function toProblem(err: AppError, requestId?: string, instance?: string): ProblemDetails {
  const { status, title } = errorCodes[err.code];
  return {
    type: `${PROBLEM_TYPE_BASE}${err.code.replaceAll("_", "-")}`,
    title,
    status,
    detail: err.message,
    ...(instance ? { instance } : {}),
    code: err.code,
    ...(requestId ? { requestId } : {}),
    ...(err.extra.errors ? { errors: err.extra.errors } : {}),
    ...err.extra.members,
  };
}
