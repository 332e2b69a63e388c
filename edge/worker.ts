/**
 * Composition root of the edge Worker (CONVENTIONS 1): the Hono app for `fetch`, the Cron Trigger for
 * `scheduled`, and the Durable Object classes. Module scope holds only per-isolate, I/O-free things
 * (the app, parsed config, limiter caches); every connection is per request or inside the Durable Object.
 */
import { buildApp } from "./app";
import { runScheduled } from "./cron/scheduled";
import type { Bindings } from "./env";

export { BatchScheduler } from "./durable-objects/batch-scheduler";
export { FailoverState } from "./durable-objects/failover-state";
export { NatsPublisher } from "./durable-objects/nats-publisher";

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: async (controller, env, ctx) => {
    await runScheduled(env, ctx, controller.scheduledTime);
  },
} satisfies ExportedHandler<Bindings>;
