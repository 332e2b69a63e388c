/**
 * The Cron Trigger (every minute): republish outbox rows whose publish failed, queue scheduled batches that
 * are due (the backstop: each region's BatchScheduler alarm normally queues them on time), and region
 * failover (cron/failover.ts: health probes spread over the minute, DNS switch, alerts, re-homing), with its
 * state in the FailoverState Durable Object. Every publish goes through the live region map.
 */
import type { Bindings } from "../env";
import { loadConfig } from "../env";
import { openDb } from "../adapters/db";
import { edgePublisher } from "../adapters/routed-publisher";
import { queueDueBatches } from "./due-batches";
import { runFailoverCron } from "./failover";
import { purgeIdempotencyKeys } from "./idempotency-purge";
import { rehomeBatches } from "./rehome";
import { sweepOutbox } from "./outbox-sweep";

export async function runScheduled(env: Bindings, ctx: ExecutionContext, scheduledTime = Date.now()): Promise<void> {
  const config = loadConfig(env);
  const { db, close } = openDb(config);
  const publisher = edgePublisher(env);
  try {
    // Independent jobs: one failing must not stop the other.
    const results = await Promise.allSettled([
      sweepOutbox(db, publisher),
      queueDueBatches(db, publisher),
      runFailoverCron(env, scheduledTime, (from, to) => rehomeBatches(db, publisher, from, to)),
      purgeIdempotencyKeys(db),
    ]);
    for (const r of results) if (r.status === "rejected") console.error("scheduled job failed", r.reason);
    const [sweep, due] = results;
    console.log(
      `cron: outbox republished ${sweep.status === "fulfilled" ? sweep.value.published : "?"}, ` +
        `due batches queued ${due.status === "fulfilled" ? due.value.queued : "?"}`,
    );
  } finally {
    ctx.waitUntil(close());
  }
}
