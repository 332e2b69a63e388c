/**
 * Request and response pieces every route group shares: ids in paths, the `Idempotency-Key` header, cursor
 * pagination and the problem document. One definition each, so validation and the generated OpenAPI
 * document agree everywhere.
 */
import { z } from "@hono/zod-openapi";
import { errorCodes, type ErrorCode } from "../../core/domain/problem";

/** Batch ids are UUIDs; a malformed id is a 404 like an unknown one (never a 500 from a uuid cast). */
export const BatchId = z.uuid().openapi({ example: "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10" });

export const BatchIdParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, description: "The batch id (a UUID)", example: "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10" }),
});

/** `Idempotency-Key`: an opaque client string, like Stripe's. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

export const IdempotencyHeaders = z.object({
  "idempotency-key": IdempotencyKey.optional().openapi({
    param: { name: "idempotency-key", in: "header" },
    description: "Makes the POST safe to retry: the same key and body replay the first answer for 24 hours.",
    example: "order-4711-newsletter",
  }),
});

/** Query of a cursor-paginated list: `limit` plus the id of the last item of the previous page. */
export function pageQuery(opts: { defaultLimit: number; maxLimit: number; cursor: z.ZodString }) {
  return z.object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(opts.maxLimit)
      .default(opts.defaultLimit)
      .openapi({ param: { name: "limit", in: "query" }, type: "integer", description: `Page size (1–${opts.maxLimit})` }),
    starting_after: opts.cursor.optional().openapi({
      param: { name: "starting_after", in: "query" },
      description: "The `nextCursor` of the previous page",
    }),
  });
}

/** RFC 9457 problem details, the body of every 4xx and 5xx. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    scope: z.string().optional().openapi({ description: "403: the scope this route needs and the key lacks" }),
    quota: z.string().optional().openapi({ description: "429 `quota_exceeded`: the quota (`active_batches`, `pending_recipients`, `sends_per_day`)" }),
    limit: z.number().int().optional().openapi({ description: "429 `quota_exceeded`: the tenant's limit" }),
    used: z.number().int().optional().openapi({ description: "429 `quota_exceeded`: current use, before this request" }),
    resetsAt: z.string().nullable().optional().openapi({ description: "429 `quota_exceeded`: when the quota resets; null when it frees up as batches finish" }),
  })
  .openapi("Problem");

const problemDescriptions: Record<number, string> = {
  400: "Malformed request (bad JSON, empty body)",
  401: "Missing, invalid, revoked or expired API key",
  403: "The API key lacks the scope this route needs (`scope` names it)",
  404: "Not found (another tenant's resources do not exist either)",
  405: "Method not allowed",
  409: "Conflict with the resource's current state",
  413: "Request body too large",
  415: "Unsupported media type",
  422: "Validation failed; `errors` names each field",
  429: "Rate limited (see Retry-After and RateLimit-* headers) or over a quota (`quota_exceeded`: `quota`, `limit`, `resetsAt`)",
  500: "Unexpected error",
  503: "A dependency is unavailable; retry shortly",
};

type ProblemResponses = Record<number, { description: string; content: { "application/problem+json": { schema: typeof Problem } } }>;

/** Exactly these problem responses (routes outside /v1: no key, no limits). */
export function problemsExactly(...statuses: number[]): ProblemResponses {
  return Object.fromEntries(
    [...new Set(statuses)]
      .sort()
      .map((s) => [s, { description: problemDescriptions[s] ?? "Error", content: { "application/problem+json": { schema: Problem } } }]),
  );
}

/** Problem responses of a /v1 route: the given statuses plus the ones every /v1 route can answer. */
export function problems(...statuses: number[]): ProblemResponses {
  return problemsExactly(...statuses, 400, 401, 403, 429, 500, 503);
}
