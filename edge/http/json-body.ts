/**
 * Request bodies: the size limit (413) runs before anything reads the body. Then, for JSON bodies, a guard
 * that turns input Postgres or the schemas cannot take into 4xx before any of them sees it:
 * - malformed JSON → 400;
 * - nesting deeper than MAX_JSON_DEPTH → 422 (recursive code downstream — zod, JSON.stringify, liquidjs —
 *   would overflow the stack on thousands of levels);
 * - NUL characters and lone UTF-16 surrogates in any string or key → 422 with the field path (Postgres text
 *   and jsonb reject both, which used to surface as a 500).
 * Media type (415) and schema (422) are checked by the route's @hono/zod-openapi validators afterwards; they
 * re-parse the cached body text.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../../core/domain/problem";
import type { AppEnv } from "../hono-env";
import { validationError } from "./problem";

/** 10,000 recipients with a few variables each, plus a 512 KiB HTML body, fit comfortably. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Far above any legitimate body (variables are capped at 8 levels), far below a stack overflow. */
export const MAX_JSON_DEPTH = 32;

export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes`);
  },
});

// NUL, or a lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const BAD_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isJsonType(contentType: string | undefined): boolean {
  const type = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Iterative walk (no recursion, so depth itself cannot overflow): the first problem, with its path. */
export function jsonProblem(root: unknown): { path: string; message: string } | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    const where = () => path.map(String).join(".") || "body";
    if (typeof value === "string") {
      if (BAD_CHARS.test(value)) return { path: where(), message: "contains a NUL character or an unpaired UTF-16 surrogate" };
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (path.length >= MAX_JSON_DEPTH) return { path: where(), message: `nested more than ${MAX_JSON_DEPTH} levels deep` };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    } else {
      const entries = Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        if (BAD_CHARS.test(k)) return { path: [...path, k].map(String).join("."), message: "key contains a NUL character or an unpaired UTF-16 surrogate" };
        stack.push({ value: v, path: [...path, k] });
      }
    }
  }
  return undefined;
}

/** Empty 400, malformed 400, NUL/lone surrogate/too deep 422 (jsonProblem); the parsed value otherwise. */
function parseGuardedJson(text: string): unknown {
  if (!text.trim()) throw new AppError("bad_request", "The request body is empty");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AppError("bad_request", `Malformed JSON: ${(err as Error).message}`);
  }
  const problem = jsonProblem(data);
  if (problem) throw new AppError("validation_failed", `${problem.path}: ${problem.message}`, { errors: [problem] });
  return data;
}

export const guardJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isJsonType(c.req.header("content-type"))) return next();
  parseGuardedJson(await c.req.text());
  await next();
};

/**
 * For routes outside the OpenAPI modules (routes/admin.ts): media type 415, malformed 400, the guard above
 * 422, then the zod schema 422 with field paths.
 */
export async function readJson<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  if (!isJsonType(c.req.header("content-type"))) throw new AppError("unsupported_media_type", "Send the body as application/json");
  const data = parseGuardedJson(await c.req.text());
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}
