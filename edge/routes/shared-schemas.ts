/**
 * Request pieces every route group shares: ids in paths, the `Idempotency-Key` header and cursor pagination.
 * One definition each, so validation and the generated OpenAPI document agree everywhere.
 */
import { z } from "zod";

/** Batch ids are UUIDs; anything else is a 404 like an unknown id (never a 500 from a uuid cast). */
export const BatchId = z.uuid();

/** `Idempotency-Key`: an opaque client string, like Stripe's. */
export const IdempotencyKey = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

/** Query of a cursor-paginated list: `limit` plus the id of the last item of the previous page. */
export function pageQuery(opts: { defaultLimit: number; maxLimit: number; cursor: z.ZodString }) {
  return z.object({
    limit: z.coerce.number().int().min(1).max(opts.maxLimit).default(opts.defaultLimit),
    starting_after: opts.cursor.optional(),
  });
}
