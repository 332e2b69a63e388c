/** Idempotency keys are kept 24 h (edge/middleware/idempotency.ts); the minute cron deletes older ones in bounded slices. */
import { sql } from "drizzle-orm";
import type { Db } from "../adapters/db";
import { IDEMPOTENCY_RETENTION } from "../middleware/idempotency";

export async function purgeIdempotencyKeys(db: Db, limit = 10_000): Promise<{ deleted: number }> {
  const res = await db.execute(sql`
    delete from idempotency_keys where ctid in (
      select ctid from idempotency_keys where created_at < now() - ${IDEMPOTENCY_RETENTION}::interval limit ${limit})`);
  return { deleted: res.rowCount ?? 0 };
}
