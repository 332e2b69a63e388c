/**
 * Waking the region's BatchScheduler Durable Object for a scheduled batch (the small interface verbs depend
 * on, CONVENTIONS 4). Best effort by design: Postgres already holds the batch as `scheduled`, and the minute
 * cron queues it anyway if the alarm could not be set, only up to 60 s later.
 */
import type { Region } from "../../core/contract";
import type { BatchScheduler } from "../durable-objects/batch-scheduler";

export interface Wakeups {
  /** Make sure the region's scheduler wakes no later than `at`. */
  wakeAt(region: Region, at: Date): Promise<void>;
}

export function durableObjectWakeups(ns: DurableObjectNamespace<BatchScheduler>): Wakeups {
  return {
    async wakeAt(region, at) {
      await ns.get(ns.idFromName(region)).wakeAt(region, at.getTime());
    },
  };
}
