/**
 * The messaging contract (DESIGN §4): every stream, subject, durable consumer and message schema, imported by
 * both the edge (publisher) and the consumers. Messages carry ids, never data: a chunk names recipient ids
 * and the sender loads the rows, so Postgres stays the only state of record.
 *
 * Edge-safe: no node:* imports.
 */
import { z } from "zod";

export const REGIONS = ["falkenstein", "ashburn"] as const;
export const Region = z.enum(REGIONS);
export type Region = z.infer<typeof Region>;

export const CHANNELS = ["email", "sms", "webhook"] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** Header carrying the API request's trace id through NATS into consumer logs. */
export const TRACE_HEADER = "Bs-Trace-Id";

export const subjects = {
  plan: (region: Region) => `batch.${region}.plan`,
  send: (region: Region, channel: ChannelName) => `send.${region}.${channel}`,
  event: (provider: string) => `event.${provider}`,
  dlq: (originalSubject: string) => `dlq.${originalSubject}`,
} as const;

/**
 * Stream settings. None of them may discard unsent work: no max_age, no message or byte limits, and
 * `discard: new` so a full stream refuses a publish (the publisher retries, the outbox keeps it) instead of
 * silently dropping old messages. Work streams use work-queue retention: a message leaves when acked.
 */
export interface StreamSpec {
  name: string;
  subjects: string[];
  retention: "workqueue" | "limits";
  /** Provider events are kept for a week so a replay is possible; never applies to unsent work. */
  maxAgeSeconds?: number;
}

export const streams = {
  batches: { name: "BATCHES", subjects: ["batch.*.plan"], retention: "workqueue" },
  sends: { name: "SENDS", subjects: ["send.*.*"], retention: "workqueue" },
  events: { name: "EVENTS", subjects: ["event.*"], retention: "limits", maxAgeSeconds: 7 * 24 * 3600 },
  dlq: { name: "DLQ", subjects: ["dlq.>"], retention: "limits" },
} as const satisfies Record<string, StreamSpec>;

/**
 * Durable pull consumers. `ackWaitSeconds` covers one chunk's normal processing; a sender waiting for tokens
 * or a slow provider extends it with `working()`. `maxDeliver` bounds redelivery: the handler of the last
 * delivery copies the message to DLQ and marks its recipients failed (consumers/jobs), so nothing strands.
 */
export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  ackWaitSeconds: number;
  maxDeliver: number;
  maxAckPending: number;
}

export const consumerSpecs = {
  planner: (region: Region): ConsumerSpec => ({
    stream: streams.batches.name,
    durable: `planner-${region}`,
    filterSubject: subjects.plan(region),
    ackWaitSeconds: 60,
    maxDeliver: 10,
    maxAckPending: 64,
  }),
  sender: (region: Region, channel: ChannelName): ConsumerSpec => ({
    stream: streams.sends.name,
    durable: `sender-${region}-${channel}`,
    filterSubject: subjects.send(region, channel),
    ackWaitSeconds: 30,
    maxDeliver: 8,
    maxAckPending: 1024,
  }),
} as const;

/** batch.<region>.plan — expand a queued batch into send chunks. */
export const PlanBatchMessage = z.object({
  batchId: z.string().uuid(),
  tenantId: z.string().uuid(),
  /** The batch's plan generation when this plan was asked for; older ones are dropped. Absent: current. */
  generation: z.number().int().nonnegative().optional(),
});
export type PlanBatchMessage = z.infer<typeof PlanBatchMessage>;

/** send.<region>.<channel> — one provider-sized chunk of recipient ids of one batch. */
export const SendChunkMessage = z.object({
  batchId: z.string().uuid(),
  tenantId: z.string().uuid(),
  recipientIds: z.array(z.number().int().positive()).min(1).max(1000),
  /** The plan generation that published this chunk; the sender claims nothing for an older one. */
  generation: z.number().int().nonnegative().optional(),
});
export type SendChunkMessage = z.infer<typeof SendChunkMessage>;

/** dlq.<original subject> — a message that exhausted its deliveries, kept for inspection and replay. */
export const DeadLetterMessage = z.object({
  subject: z.string(),
  data: z.unknown(),
  deliveries: z.number().int(),
  reason: z.string(),
  failedAt: z.string(),
});
export type DeadLetterMessage = z.infer<typeof DeadLetterMessage>;
