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
  /** Provider events, published by the edge's webhook routes into the region it serves from. */
  event: (region: Region, provider: EventProvider) => `event.${region}.${provider}`,
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
  events: { name: "EVENTS", subjects: ["event.*.*"], retention: "limits", maxAgeSeconds: 7 * 24 * 3600 },
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
  /** Provider events of this region (dedupe and apply happen in Postgres, so any region may apply any event). */
  events: (region: Region): ConsumerSpec => ({
    stream: streams.events.name,
    durable: `events-${region}`,
    filterSubject: `event.${region}.*`,
    ackWaitSeconds: 60,
    maxDeliver: 20,
    maxAckPending: 20_000,
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

export const EVENT_PROVIDERS = ["ses", "resend", "telnyx"] as const;
export type EventProvider = (typeof EVENT_PROVIDERS)[number];

/**
 * What a provider event means for a recipient (core/domain/recipient-events.ts ranks them). `sent` and
 * `other` change no state; `stop` / `start` are inbound SMS opt-out / opt-in replies.
 */
export const PROVIDER_EVENT_TYPES = ["sent", "delivered", "bounced", "complained", "opened", "clicked", "failed", "stop", "start", "other"] as const;
export type ProviderEventType = (typeof PROVIDER_EVENT_TYPES)[number];

/**
 * event.<region>.<provider> — one verified provider event, normalised by the edge (no database work there).
 * `eventId` is the provider's own id (SNS MessageId, svix-id, Telnyx data.id): the consumer deduplicates on
 * (provider, eventId). `tenantId` comes from the tags the sender put on the message (SES, Resend); Telnyx has
 * no tags, so its events are matched by the provider message id alone (ids of one managed account).
 */
export const ProviderEventMessage = z.object({
  provider: z.enum(EVENT_PROVIDERS),
  eventId: z.string().min(1).max(256),
  type: z.enum(PROVIDER_EVENT_TYPES),
  /** The provider's own event name (`Bounce`, `email.opened`, `message.finalized`). */
  providerType: z.string().max(128),
  providerMessageId: z.string().max(512).optional(),
  bounceType: z.enum(["hard", "soft"]).optional(),
  tenantId: z.string().uuid().optional(),
  batchId: z.string().uuid().optional(),
  recipientId: z.string().max(32).optional(),
  /** STOP/START replies: the number that replied (E.164) and the number it replied to. */
  address: z.string().max(320).optional(),
  to: z.string().max(320).optional(),
  reason: z.string().max(1000).optional(),
  occurredAt: z.string(),
  receivedAt: z.string(),
  raw: z.unknown(),
});
export type ProviderEventMessage = z.infer<typeof ProviderEventMessage>;
