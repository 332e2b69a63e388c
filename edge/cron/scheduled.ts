/**
 * The Cron Trigger (every minute): republish outbox rows whose publish failed, and queue scheduled batches
 * that are due. The latter is the backstop: each region's BatchScheduler alarm normally queues them on time. Region failover (DESIGN §9, health probes + DNS switch + re-homing) is a separate job that
 * will run here next to these two, with its state in its own Durable Object.
 */
import type { Bindings } from "../env";
import { loadConfig } from "../env";
import { openDb } from "../adapters/db";
import { durableObjectPublisher } from "../adapters/publisher";
import { queueDueBatches } from "./due-batches";
import { sweepOutbox } from "./outbox-sweep";

export async function runScheduled(env: Bindings, ctx: ExecutionContext): Promise<void> {
  const config = loadConfig(env);
  const { db, close } = openDb(config);
  const publisher = durableObjectPublisher(env.NATS_PUBLISHER);
  try {
    // Independent jobs: one failing must not stop the other.
    const results = await Promise.allSettled([sweepOutbox(db, publisher), queueDueBatches(db, publisher)]);
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
