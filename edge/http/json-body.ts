/**
 * Request bodies: the size limit (413) runs before anything reads the body. Media type (415), malformed
 * JSON (400) and schema (422) are checked by the route's @hono/zod-openapi validators.
 */
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../../core/domain/problem";

/** 10,000 recipients with a few variables each, plus a 512 KiB HTML body, fit comfortably. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes`);
  },
});
