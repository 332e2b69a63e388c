/**
 * One instance per region (`idFromName(region)`) whose alarm starts scheduled batches on time (DESIGN §1: the
 * minute cron alone was up to 60 s late). A separate class rather than an alarm on NatsPublisher because the
 * two have different jobs and lifetimes: the publisher holds a NATS socket and no database, this one holds a
 * database connection only while its alarm runs and publishes through the publisher like any request does.
 * A slow or failing database can therefore never delay a publish, and the publisher stays storage-free.
 *
 * The alarm is only a wake-up: Postgres stays the schedule of record. Each run queues whatever is due (the
 * same guarded transaction as the cron) and re-arms from `min(scheduled_at)` of the region's scheduled
 * batches, so cancelled or rescheduled batches cost at most one empty run. The cron remains the backstop.
 */
import { DurableObject } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { Region } from "../../core/contract";
import { queueDueBatches } from "../cron/due-batches";
import { loadConfig, type Bindings } from "../env";
import { openDb } from "../adapters/db";
import { edgePublisher } from "../adapters/routed-publisher";

/**
 * Never arm closer than this: the Worker's clock may run slightly ahead of Postgres' `now()`, which would
 * otherwise turn "due in 3 ms" into a tight loop of empty runs.
 */
const MIN_REARM_MS = 250;
const REGION_KEY = "region";

export class BatchScheduler extends DurableObject<Bindings> {
  /** Arms the alarm for `min(current alarm, atMs)`; the region is stored because `ctx.id.name` may be unset in alarm(). */
  async wakeAt(region: Region, atMs: number): Promise<void> {
    Region.parse(region);
    await this.ctx.storage.put(REGION_KEY, region);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || atMs < current) await this.ctx.storage.setAlarm(Math.max(atMs, Date.now()));
  }

  /**
   * Errors are rethrown: workerd retries the alarm with backoff (2 s, up to 6 times) and the cron catches
   * anything after that, so a database outage delays batches but never loses them.
   */
  override async alarm(): Promise<void> {
    const region = Region.parse((await this.ctx.storage.get<string>(REGION_KEY)) ?? this.ctx.id.name);
    const { db, close } = openDb(loadConfig(this.env));
    try {
      const { queued, more } = await queueDueBatches(db, edgePublisher(this.env), { region });
      if (queued) console.log(`scheduler ${region}: queued ${queued} due batches`);
      const res = await db.execute<{ next_ms: number | string | null }>(sql`
        select (extract(epoch from min(scheduled_at)) * 1000)::float8 as next_ms
          from batches where status = 'scheduled' and region = ${region}`);
      const next = res.rows[0]?.next_ms;
      const nextMs = more ? Date.now() : next == null ? undefined : Number(next);
      // getAlarm() inside alarm() is null unless wakeAt() armed it during this run: keep the earlier one.
      const armed = await this.ctx.storage.getAlarm();
      const target = Math.min(nextMs ?? Infinity, armed ?? Infinity);
      if (target !== Infinity) await this.ctx.storage.setAlarm(Math.max(target, Date.now() + MIN_REARM_MS));
    } finally {
      await close();
    }
  }
}
