/**
 * Prometheus metrics of one consumer process (`/metrics`). One registry per process, built in main.ts and
 * passed to the jobs, so tests can build their own without global state.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface ConsumerInfoSource {
  /** Pending (not yet delivered) and ack-pending counts per durable consumer, from JetStream consumer info. */
  consumerInfo(): Promise<{ durable: string; pending: number; ackPending: number; redelivered: number }[]>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  let source: ConsumerInfoSource | undefined;
  const m = {
    registry,
    sends: new Counter({
      name: "batchsender_sends_total",
      help: "Recipients handed to a provider, by provider and outcome (sent, failed, retry, cancelled, dry_run).",
      labelNames: ["provider", "outcome"] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: "batchsender_send_retries_total",
      help: "Retryable provider outcomes (429, throttling, 5xx, timeouts), retried in-process or via nak.",
      labelNames: ["provider", "via"] as const,
      registers: [registry],
    }),
    bucketWaits: new Counter({
      name: "batchsender_bucket_waits_total",
      help: "Times a provider call had to wait for rate-limit tokens.",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    bucketStoreDown: new Counter({
      name: "batchsender_bucket_store_unavailable_total",
      help: "Token takes that failed because the bucket store was unreachable (sending paused).",
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: "batchsender_dead_lettered_total",
      help: "Chunks published to DLQ after their last delivery.",
      labelNames: ["subject"] as const,
      registers: [registry],
    }),
    chunks: new Counter({
      name: "batchsender_chunks_total",
      help: "Job messages handled (plan messages, send chunks), by job and result (ack, nak, dlq, term).",
      labelNames: ["job", "result"] as const,
      registers: [registry],
    }),
    infraWaits: new Counter({
      name: "batchsender_infra_waits_total",
      help: "In-process waits after an infrastructure error (Postgres, NATS, bucket store); no delivery spent.",
      labelNames: ["job"] as const,
      registers: [registry],
    }),
    claimSeconds: new Histogram({
      name: "batchsender_claim_seconds",
      help: "Latency of the claim statement.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    recordSeconds: new Histogram({
      name: "batchsender_record_seconds",
      help: "Latency of the result-recording statement.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    consumerPending: new Gauge({
      name: "batchsender_consumer_pending",
      help: "Messages not yet delivered to the durable consumer (lag).",
      labelNames: ["durable"] as const,
      registers: [registry],
      async collect() {
        if (!source) return;
        const infos = await source.consumerInfo().catch(() => []);
        for (const i of infos) {
          this.set({ durable: i.durable }, i.pending);
          m.consumerAckPending.set({ durable: i.durable }, i.ackPending);
          m.consumerRedelivered.set({ durable: i.durable }, i.redelivered);
        }
      },
    }),
    consumerAckPending: new Gauge({
      name: "batchsender_consumer_ack_pending",
      help: "Messages delivered and not yet acked.",
      labelNames: ["durable"] as const,
      registers: [registry],
    }),
    consumerRedelivered: new Gauge({
      name: "batchsender_consumer_redelivered",
      help: "Messages redelivered and not yet acked.",
      labelNames: ["durable"] as const,
      registers: [registry],
    }),
    setConsumerInfoSource(s: ConsumerInfoSource) {
      source = s;
    },
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
