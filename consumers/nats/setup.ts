/**
 * Makes the streams and this region's durable consumers from core/contract exist with the contract's
 * settings (create, or update when they already exist). Stream settings never discard unsent work: no
 * max_age/limits on work streams, `discard: new` so a full stream refuses publishes instead of dropping.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { streams, type ConsumerSpec, type Region, type StreamSpec } from "../../core/contract";
import { consumerSpecsFor } from "../jobs/catalog";

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number | string; api_error?: { err_code?: number } };
  return /not found/i.test(e?.message ?? "") || e?.name === "StreamNotFoundError" || e?.name === "ConsumerNotFoundError";
}

/** `replicas`: NATS_STREAM_REPLICAS — 1 on a single server, 3 on a production cluster. */
export function streamConfig(spec: StreamSpec, replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: spec.subjects,
    retention: spec.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_age: spec.maxAgeSeconds ? nanos(spec.maxAgeSeconds * 1000) : 0,
    max_msgs: -1,
    max_bytes: -1,
    num_replicas: replicas,
  };
}

export async function ensureStreams(jsm: JetStreamManager, replicas = 1): Promise<void> {
  for (const spec of Object.values(streams) as StreamSpec[]) {
    const cfg = streamConfig(spec, replicas);
    try {
      await jsm.streams.info(spec.name);
      // Retention and storage cannot change after creation; update what can.
      const { retention: _r, storage: _s, ...updatable } = cfg;
      await jsm.streams.update(spec.name, updatable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(cfg);
      } catch (addErr) {
        // Another process created it between info and add.
        if (!/already in use|already exists/i.test((addErr as Error).message)) throw addErr;
      }
    }
  }
}

/** This region's durables: one per job catalog entry (consumers/jobs/catalog.ts). */
export { consumerSpecsFor };

export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<void> {
  const updatable = {
    ack_wait: nanos(spec.ackWaitSeconds * 1000),
    max_deliver: spec.maxDeliver,
    max_ack_pending: spec.maxAckPending,
  };
  try {
    await jsm.consumers.info(spec.stream, spec.durable);
    await jsm.consumers.update(spec.stream, spec.durable, updatable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.consumers.add(spec.stream, {
        durable_name: spec.durable,
        filter_subject: spec.filterSubject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...updatable,
      });
    } catch (addErr) {
      if (!/already (in use|exists)/i.test((addErr as Error).message)) throw addErr;
      await jsm.consumers.update(spec.stream, spec.durable, updatable);
    }
  }
}

export async function ensureTopology(jsm: JetStreamManager, region: Region, replicas = 1): Promise<void> {
  await ensureStreams(jsm, replicas);
  for (const spec of consumerSpecsFor(region)) await ensureConsumer(jsm, spec);
}
