/**
 * Reading a JSON request body: wrong content type → 415, empty or malformed JSON → 400, then zod → 422 with
 * field paths. The size limit (413) is enforced before this by the bodyLimit middleware.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../../core/domain/problem";
import type { AppEnv } from "../hono-env";
import { validationError } from "./problem";

/** 10,000 recipients with a few variables each, plus a 512 KiB HTML body, fit comfortably. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

function isJsonType(contentType: string | undefined): boolean {
  const type = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

export async function readJson<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  if (!isJsonType(c.req.header("content-type"))) {
    throw new AppError("unsupported_media_type", "Send the body as application/json");
  }
  const text = await c.req.text();
  if (!text.trim()) throw new AppError("bad_request", "The request body is empty");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AppError("bad_request", `Malformed JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

export function parseOrThrow<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}
