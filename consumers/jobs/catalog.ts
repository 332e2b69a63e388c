/**
 * The consumers' job catalog (CONVENTIONS 10): every kind of message a consumer handles, as one typed entry —
 * where it comes from (stream, durable, subject and MaxDeliver per region, from core/contract), its schema,
 * its handler, its retry policy and what its dead letter does. `runner.ts` runs every entry the same way;
 * `app.ts` starts one pull loop per entry; `nats/setup.ts` creates the durables from the same list.
 *
 * A new job (events, customer webhooks, reconcile) is one more entry here and a handler file beside it.
 */
import { CHANNELS, consumerSpecs, PlanBatchMessage, ProviderEventMessage, SendChunkMessage, type ChannelName, type ConsumerSpec, type Region } from "../../core/contract";
import { handleProviderEvent, type EventsDeps } from "./events";
import { failPlannedBatch, planMessage } from "./plan";
import { DEFAULT_RETRY, runJob, type JobEntry, type JobResult } from "./runner";
import { failUnfinishedChunk, sendChunk, type SendDeps } from "./send";
import type { JsMsg } from "@nats-io/jetstream";
import type { Pool } from "pg";

/** Everything any job needs; built once by app.ts. */
export interface JobDeps extends SendDeps, EventsDeps {
  region: Region;
  /** The planner's session advisory lock needs a Pool (`connect()`), not just `query`. */
  db: SendDeps["db"] & Pick<Pool, "connect">;
  /** This process's NATS deployment (NATS_URL): recorded as a batch's `planned_by` (plan.ts). */
  deployment: string;
}

export const planJob: JobEntry<PlanBatchMessage, JobDeps> = {
  name: "plan",
  consumer: (region) => consumerSpecs.planner(region),
  schema: PlanBatchMessage,
  retry: DEFAULT_RETRY,
  concurrency: () => 2,
  handle: (deps, ctx, body) => planMessage(deps, ctx, body),
  onDeadLetter: (deps, ctx, body, reason) => failPlannedBatch(deps, ctx, body, reason),
};

export function sendJob(channel: ChannelName): JobEntry<SendChunkMessage, SendDeps> {
  return {
    name: `send-${channel}`,
    consumer: (region) => consumerSpecs.sender(region, channel),
    schema: SendChunkMessage,
    retry: DEFAULT_RETRY,
    concurrency: (limits) => limits.senderConcurrency,
    handle: sendChunk,
    onDeadLetter: failUnfinishedChunk,
  };
}

/** Provider events: grouped by EventApplier, so many messages are in flight at once. */
export const eventsJob: JobEntry<ProviderEventMessage, JobDeps> = {
  name: "events",
  consumer: (region) => consumerSpecs.events(region),
  schema: ProviderEventMessage,
  retry: DEFAULT_RETRY,
  concurrency: () => 2000,
  handle: handleProviderEvent,
  // Nothing to mark: the DLQ copy keeps the event for a replay.
  onDeadLetter: async () => {},
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- entries differ in their message type only
export const catalog: JobEntry<any, JobDeps>[] = [planJob, ...CHANNELS.map(sendJob), eventsJob];

export function consumerSpecsFor(region: Region): ConsumerSpec[] {
  return catalog.map((e) => e.consumer(region));
}

/** One send chunk through the runner, with SendDeps (integration tests drive single messages with it). */
export function handleSendChunk(deps: SendDeps, msg: JsMsg): Promise<JobResult> {
  const entry = sendJob(msg.subject.split(".").pop() as ChannelName);
  return runJob(entry, deps, { js: deps.js, log: deps.log, metrics: deps.metrics, stopping: deps.stopping, stopSignal: deps.stopSignal, heartbeatMs: deps.heartbeatMs }, msg, deps.maxDeliver);
}
