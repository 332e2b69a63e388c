/**
 * `Idempotency-Key` on every POST (Stripe's semantics), stored in `idempotency_keys` keyed by (tenant, key):
 *
 * - first use: a row with `status` null is claimed with INSERT … ON CONFLICT DO NOTHING (the unique key
 *   settles racing requests), the request runs, and its status and body are stored — 4xx included, so a
 *   retry of a refused request is refused the same way. A 5xx (or a crash) releases the key: retrying can help.
 * - the same key again, same method + path + body: the stored answer is replayed with `Idempotent-Replayed: true`;
 * - with a different method, path or body: 422; while the first request is still in flight: 409.
 * - kept 24 h: an older row is taken over as a first use. A claim older than IN_FLIGHT_TIMEOUT_MS whose
 *   request never finished (isolate killed) is taken over too, so a key is never stuck.
 *
 * Runs after the body limit (the body is read here to fingerprint it) and after auth (keys are per tenant).
 */
import { sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../../core/domain/api-keys";
import { AppError } from "../../core/domain/problem";
import { pgErrorCode } from "../adapters/db";
import type { AppEnv } from "../hono-env";
import { validationError } from "../http/problem";
import { streamFormat } from "../http/row-stream";
import { IdempotencyKey } from "../routes/shared-schemas";

export const IDEMPOTENCY_RETENTION = "24 hours";
/** Longer than any request may run in the Worker. */
const IN_FLIGHT_TIMEOUT = "2 minutes";

export const idempotency: MiddlewareHandler<AppEnv> = async (c, next) => {
  const raw = c.req.header("idempotency-key");
  if (raw === undefined) return next();
  const parsed = IdempotencyKey.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, ["Idempotency-Key"]);
  const key = parsed.data;
  const tenantId = c.get("caller").tenantId;
  const db = c.get("db");
  // A streamed upload (up to hundreds of MB) is not buffered to be hashed: it is matched by media type and length.
  const streamed = streamFormat(c.req.header("content-type"));
  const body = streamed ? `${streamed} stream, ${c.req.header("content-length") ?? "chunked"}` : await c.req.text();
  const fingerprint = await sha256Hex(`${c.req.method}\n${new URL(c.req.url).pathname}\n${body}`);

  // Claim the key: a new row, or take over an expired answer or an abandoned claim.
  const claimed = await db.execute<{ claimed: boolean }>(sql`
    insert into idempotency_keys (tenant_id, key, fingerprint)
    values (${tenantId}::uuid, ${key}, ${fingerprint})
    on conflict (tenant_id, key) do update
       set fingerprint = excluded.fingerprint, status = null, response_body = null, created_at = now(), completed_at = null
     where idempotency_keys.created_at < now() - ${IDEMPOTENCY_RETENTION}::interval
        or (idempotency_keys.status is null and idempotency_keys.created_at < now() - ${IN_FLIGHT_TIMEOUT}::interval)
    returning true as claimed`);

  if (!claimed.rows.length) {
    const [earlier] = (
      await db.execute<{ fingerprint: string; status: number | null; response_body: string | null }>(sql`
        select fingerprint, status, response_body from idempotency_keys where tenant_id = ${tenantId}::uuid and key = ${key}`)
    ).rows;
    if (!earlier) throw new AppError("conflict", "This Idempotency-Key is being reset; retry the request");
    if (earlier.fingerprint !== fingerprint) {
      throw new AppError("validation_failed", "This Idempotency-Key was already used with a different request (method, path or body)", {
        errors: [{ path: "Idempotency-Key", message: "already used with a different request" }],
      });
    }
    if (earlier.status === null) throw new AppError("conflict", "A request with this Idempotency-Key is still in progress; retry later");
    const isProblem = earlier.status >= 400;
    return new Response(earlier.response_body, {
      status: earlier.status,
      headers: {
        "Content-Type": isProblem ? "application/problem+json" : "application/json",
        "Idempotent-Replayed": "true",
        "Request-Id": c.get("requestId"),
      },
    });
  }

  await next();

  const status = c.res.status;
  if (status >= 500) {
    await db.execute(sql`delete from idempotency_keys where tenant_id = ${tenantId}::uuid and key = ${key} and status is null`);
    return;
  }
  const responseBody = c.get("idempotentReplayBody") ?? (await c.res.clone().text());
  try {
    await db.execute(sql`
      update idempotency_keys set status = ${status}, response_body = ${responseBody}, completed_at = now()
       where tenant_id = ${tenantId}::uuid and key = ${key}`);
  } catch (err) {
    // The request itself succeeded: answer it; a retry then re-runs against the verb's own guards.
    console.error(`idempotency: storing the answer failed (postgres ${pgErrorCode(err) ?? "?"})`);
  }
};
