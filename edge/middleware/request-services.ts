/**
 * Per-request services as typed context variables (CONVENTIONS 3): a drizzle handle over a NEW Pool (workerd
 * forbids sharing I/O objects between requests), the region publisher and scheduler, and `defer` for work after the
 * response. The pool is closed only after every deferred task settled, all inside waitUntil.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../hono-env";
import { openDb } from "../adapters/db";
import { edgePublisher } from "../adapters/routed-publisher";
import { durableObjectWakeups } from "../adapters/wakeups";

export const requestServices: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { db, close } = openDb(c.get("config"));
  const deferred: Promise<unknown>[] = [];
  c.set("db", db);
  c.set("publisher", edgePublisher(c.env));
  c.set("wakeups", durableObjectWakeups(c.env.BATCH_SCHEDULER));
  c.set("defer", (what, work) => {
    deferred.push(work.catch((err: unknown) => console.error(`deferred ${what} failed`, err)));
  });
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(
      Promise.allSettled(deferred).then(close),
    );
  }
};
