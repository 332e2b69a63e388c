/**
 * The Postgres data model (DESIGN §3). Postgres is the only state of record for batches and recipients;
 * this file is the typed view of it. DDL lives in migrations/postgres/ (generated from this file by
 * drizzle-kit, then reviewed) and is applied by `npm run migrate`.
 *
 * Edge-safe: no node:* imports.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { DEFAULT_QUOTAS } from "../domain/quotas";

export const channelEnum = pgEnum("channel", ["email", "sms", "webhook"]);
export const sendModeEnum = pgEnum("send_mode", ["managed", "byok"]);
export const providerEnum = pgEnum("provider", ["ses", "resend", "telnyx", "webhook"]);
export const batchStatusEnum = pgEnum("batch_status", [
  "draft",
  "scheduled",
  "queued",
  "processing",
  "paused",
  "completed",
  "cancelled",
  "failed",
]);
export const recipientStatusEnum = pgEnum("recipient_status", [
  "pending",
  "queued",
  "sending",
  "sent",
  "delivered",
  "bounced",
  "complained",
  "opened",
  "clicked",
  "failed",
  "suppressed",
  "cancelled",
]);
export const apiKeyModeEnum = pgEnum("api_key_mode", ["live", "test"]);
export const domainStatusEnum = pgEnum("domain_status", ["pending", "verified", "failed"]);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** Home region for new batches unless a request names one. */
  defaultRegion: text("default_region").notNull().default("falkenstein"),
  createdAt: createdAt(),
});

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    /** PBKDF2 (WebCrypto) hash in PHC-like form: pbkdf2-sha256$iterations$salt$hash. */
    passwordHash: text("password_hash").notNull(),
    role: text("role").notNull().default("owner"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

export const sessions = pgTable(
  "sessions",
  {
    /** sha-256 of the session token; the token itself lives only in the HttpOnly cookie. */
    idHash: text("id_hash").primaryKey(),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    csrfToken: text("csrf_token").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** First characters of the key (e.g. `bs_live_AbCd`), shown in listings so people can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** Hex sha-256 of the whole key; the key itself is shown once and never stored. */
    keyHash: text("key_hash").notNull().unique(),
    mode: apiKeyModeEnum("mode").notNull().default("live"),
    /** core/domain/scopes.ts; an empty set grants nothing (keys made before scopes were backfilled to `admin`). */
    scopes: text("scopes").array().notNull().default(sql`'{}'::text[]`),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("api_keys_tenant_idx").on(t.tenantId)],
);

/** A tenant's plan limits (core/domain/quotas.ts); a tenant without a row has the defaults. */
export const tenantQuotas = pgTable("tenant_quotas", {
  tenantId: uuid("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  activeBatches: integer("active_batches").notNull().default(DEFAULT_QUOTAS.active_batches),
  pendingRecipients: integer("pending_recipients").notNull().default(DEFAULT_QUOTAS.pending_recipients),
  sendsPerDay: integer("sends_per_day").notNull().default(DEFAULT_QUOTAS.sends_per_day),
  updatedAt: updatedAt(),
});

/**
 * Recipients reserved for sending per tenant and UTC day (`sends_per_day`), taken when a batch is sent by one
 * guarded upsert, so concurrent sends cannot together pass the limit.
 */
export const tenantDailySends = pgTable(
  "tenant_daily_sends",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    day: date("day").notNull(),
    sends: bigint("sends", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day] })],
);

export const sendConfigs = pgTable(
  "send_configs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    channel: channelEnum("channel").notNull(),
    mode: sendModeEnum("mode").notNull(),
    provider: providerEnum("provider").notNull(),
    /** Channel defaults: `{ from, replyTo }` for email, `{ fromNumber, messagingProfileId }` for SMS… */
    defaults: jsonb("defaults").$type<Record<string, unknown>>().notNull().default({}),
    /** BYOK only: sends per second this config's own provider account allows. */
    rateLimitPerSecond: integer("rate_limit_per_second"),
    /** BYOK credentials, AES-256-GCM: base64(iv || ciphertext || tag). Never returned by the API. */
    credentialsCiphertext: text("credentials_ciphertext"),
    /** Which encryption key sealed the credentials, so keys can rotate. */
    credentialsKeyId: text("credentials_key_id"),
    /** What reads show instead of the credentials: every value cut to its last 4 characters (`••••WXYZ`). */
    credentialsMasked: jsonb("credentials_masked").$type<Record<string, string>>(),
    /** Deleted through the API: kept because finished batches still reference it; invisible and unusable. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    isDefault: boolean("is_default").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("send_configs_tenant_idx").on(t.tenantId),
    uniqueIndex("send_configs_one_default_per_channel")
      .on(t.tenantId, t.channel)
      .where(sql`${t.isDefault}`),
  ],
);

/**
 * A domain a tenant sends from on a managed provider account (DESIGN §3): the provider's identity for it, the
 * DNS records to publish, and whether the provider found them. In managed mode a batch's `from` must be on a
 * verified domain of its tenant and mode. One tenant per domain name: the claim rule lives in the add verb
 * (edge/services/domains), under an advisory lock on the name, because the same tenant may hold the name in
 * both modes and for both providers.
 */
export const sendingDomains = pgTable(
  "sending_domains",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** The mode of the key that added it: test keys see and use only test-mode domains. */
    mode: apiKeyModeEnum("mode").notNull().default("live"),
    /** Lower-case domain name. */
    domain: text("domain").notNull(),
    provider: providerEnum("provider").notNull(),
    /** The provider's handle: the SES identity name, the Resend domain id. */
    providerRef: text("provider_ref"),
    status: domainStatusEnum("status").notNull().default("pending"),
    /** DNS records to publish: `[{ purpose, type, name, value, priority?, status? }]`. */
    records: jsonb("records").$type<Record<string, unknown>[]>().notNull().default([]),
    mailFromDomain: text("mail_from_domain"),
    lastCheckedAt: timestamp("last_checked_at", { withTimezone: true }),
    verifiedAt: timestamp("verified_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("sending_domains_tenant_mode_provider_domain_key").on(t.tenantId, t.mode, t.provider, t.domain),
    index("sending_domains_domain_idx").on(t.domain),
  ],
);

export const batches = pgTable(
  "batches",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    sendConfigId: uuid("send_config_id")
      .notNull()
      .references(() => sendConfigs.id),
    name: text("name").notNull(),
    channel: channelEnum("channel").notNull(),
    /** The message, one shape per channel (core/domain/payload.ts). The only place message content lives. */
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: batchStatusEnum("status").notNull().default("draft"),
    /** Counters change in the same statement as the recipient rows they count (DESIGN §3). */
    total: integer("total").notNull().default(0),
    queued: integer("queued").notNull().default(0),
    sent: integer("sent").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    suppressed: integer("suppressed").notNull().default(0),
    cancelled: integer("cancelled").notNull().default(0),
    delivered: integer("delivered").notNull().default(0),
    bounced: integer("bounced").notNull().default(0),
    complained: integer("complained").notNull().default(0),
    opened: integer("opened").notNull().default(0),
    clicked: integer("clicked").notNull().default(0),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
    dryRun: boolean("dry_run").notNull().default(false),
    /** The mode of the API key that created it: a test key sees and acts only on test-mode batches. */
    mode: apiKeyModeEnum("mode").notNull().default("live"),
    idempotencyKey: text("idempotency_key"),
    region: text("region").notNull(),
    traceId: text("trace_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    queuedAt: timestamp("queued_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    /**
     * Plan generation (consumers/jobs/plan.ts): bumped by resume, retry and a reconciler re-plan. Plan and
     * chunk messages carry it; the planner and the sender drop messages of an older generation.
     */
    planGeneration: integer("plan_generation").notNull().default(0),
    /** Highest recipient id the current generation has published in a chunk (windowed planning). */
    planCursor: bigint("plan_cursor", { mode: "number" }).notNull().default(0),
    /** When the planner last published a window of this batch. */
    plannedAt: timestamp("planned_at", { withTimezone: true }),
    /**
     * The NATS deployment whose planner publishes this batch's windows: only its consumers top the window up
     * (a stale batch may be taken over by any). Several deployments can share one Postgres (test stacks).
     */
    plannedBy: text("planned_by"),
    /** Retry asked: failed rows last changed before this instant are re-queued by the planner in pages. */
    retryRequestedAt: timestamp("retry_requested_at", { withTimezone: true }),
    /** Rows or counters still to settle in bounded steps (cancel, retry) by the consumers' reconciler. */
    settlePending: boolean("settle_pending").notNull().default(false),
    /** Control calls (pause/resume/cancel/retry) in the window starting at `controlWindowAt`. */
    controlCalls: integer("control_calls").notNull().default(0),
    controlWindowAt: timestamp("control_window_at", { withTimezone: true }),
  },
  (t) => [
    index("batches_active_idx")
      .on(t.region, t.status)
      .where(sql`${t.status} in ('queued', 'processing') or ${t.settlePending}`),
    index("batches_tenant_created_idx").on(t.tenantId, t.createdAt),
    uniqueIndex("batches_tenant_idempotency_key")
      .on(t.tenantId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index("batches_due_idx")
      .on(t.scheduledAt)
      .where(sql`${t.status} = 'scheduled'`),
  ],
);

export const recipients = pgTable(
  "recipients",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    batchId: uuid("batch_id")
      .notNull()
      .references(() => batches.id, { onDelete: "cascade" }),
    /** Denormalised so provider events can be matched within the tenant without a join. */
    tenantId: uuid("tenant_id").notNull(),
    /** Email address, E.164 number or URL, normalised at creation. */
    address: text("address").notNull(),
    variables: jsonb("variables").$type<Record<string, unknown>>().notNull().default({}),
    status: recipientStatusEnum("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    /** Set by the sender that claimed the row; result writes are guarded by it (DESIGN §5). */
    claimToken: uuid("claim_token"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    providerMessageId: text("provider_message_id"),
    /**
     * Set before a multi-recipient provider call (a Resend batch): the group of rows that call carried. A row
     * whose outcome went unrecorded is re-sent only as that exact group, so the call's idempotency key (derived
     * from its recipient ids) is the same and the provider replays its answer instead of sending again.
     */
    callGroup: text("call_group"),
    lastError: text("last_error"),
    /**
     * Provider events already applied, as bits (core/domain/recipient-events.ts EVENT_FACT): each batch
     * counter of events (delivered, opened…) moves once per recipient, whatever order or how often they arrive.
     */
    eventFacts: integer("event_facts").notNull().default(0),
    /** `hard` | `soft` while the status is `bounced`. */
    bounceType: text("bounce_type"),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("recipients_batch_address_key").on(t.batchId, t.address),
    // Planner (`status = 'queued' order by id`) and the recipient list with a status filter walk this one;
    // the plain (batch_id, id) one serves the unfiltered list pages by cursor.
    index("recipients_batch_status_idx").on(t.batchId, t.status, t.id),
    index("recipients_batch_id_idx").on(t.batchId, t.id),
    // SMS STOP/START replies name only the number (Telnyx has no tags): consumers/jobs/events-store.ts.
    index("recipients_address_idx").on(t.address),
    // Provider events match on the message id, within the tenant when the event names one (Telnyx has no
    // tags): the id first so both lookups use it (consumers/jobs/events-store.ts).
    index("recipients_provider_msg_tenant_idx")
      .on(t.providerMessageId, t.tenantId)
      .where(sql`${t.providerMessageId} is not null`),
  ],
);

export const suppressions = pgTable(
  "suppressions",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** Test keys keep their own list, checked only by test-mode batches (test/live separation). */
    mode: apiKeyModeEnum("mode").notNull().default("live"),
    channel: channelEnum("channel").notNull(),
    /** Normalised by core/domain/address.ts (email lowercased as a whole, phone E.164), like recipients. */
    address: text("address").notNull(),
    /** core/domain/suppressions.ts SUPPRESSION_REASONS: hard_bounce | complaint | unsubscribe | stop | manual */
    reason: text("reason").notNull(),
    /** Where it came from: provider event id, API, unsubscribe link… */
    source: text("source").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.mode, t.channel, t.address] })],
);

/**
 * Every provider event the events consumer received, once: the primary key is the dedupe (a provider
 * retry or a duplicate publish is dropped on insert). `applied_at` null = pending: no recipient carries its
 * provider message id yet (the event came before the send result), so it waits here and is applied when the
 * result recorder writes that id (consumers/jobs/events-store.ts). Never dropped.
 */
export const providerEvents = pgTable(
  "provider_events",
  {
    provider: text("provider").notNull(),
    eventId: text("event_id").notNull(),
    /** From the message's tags (SES, Resend); null for Telnyx, which has none. */
    tenantId: uuid("tenant_id"),
    providerMessageId: text("provider_message_id"),
    type: text("type").notNull(),
    bounceType: text("bounce_type"),
    reason: text("reason"),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    /** The matched recipient, once applied. */
    recipientId: bigint("recipient_id", { mode: "number" }),
    appliedAt: timestamp("applied_at", { withTimezone: true }),
    /** The normalised event as published by the edge (core/contract ProviderEventMessage). */
    payload: jsonb("payload").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.provider, t.eventId] }),
    index("provider_events_pending_idx")
      .on(t.providerMessageId)
      .where(sql`${t.appliedAt} is null`),
    index("provider_events_created_idx").on(t.createdAt),
  ],
);

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** Test keys see and manage only test-mode endpoints, which receive only test-mode events. */
    mode: apiKeyModeEnum("mode").notNull().default("live"),
    url: text("url").notNull(),
    description: text("description"),
    /** Standard Webhooks signing secret (`whsec_…`), AES-256-GCM sealed like BYOK credentials. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    secretKeyId: text("secret_key_id").notNull(),
    /** After a rotation the old secret still signs (both signatures sent) until it expires. */
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    previousSecretKeyId: text("previous_secret_key_id"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
    /** core/domain/webhook-events.ts; empty = every event type. */
    eventTypes: text("event_types").array().notNull().default(sql`'{}'::text[]`),
    enabled: boolean("enabled").notNull().default(true),
    /** Why it is disabled: `manual` (API) or `failing` (auto-disabled after sustained delivery failure). */
    disabledReason: text("disabled_reason"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("webhook_endpoints_tenant_idx").on(t.tenantId, t.mode, t.createdAt)],
);

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    /** Stable event id (`webhook-id` header): retries of one event reuse it so receivers can dedupe. */
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event_key").on(t.endpointId, t.eventId),
    index("webhook_deliveries_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);

/** Messages the edge committed to publish; written in the same transaction as the state change. */
export const outbox = pgTable(
  "outbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    subject: text("subject").notNull(),
    payload: jsonb("payload").notNull(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: createdAt(),
    publishedAt: timestamp("published_at", { withTimezone: true }),
  },
  (t) => [index("outbox_unpublished_idx").on(t.createdAt).where(sql`${t.publishedAt} is null`)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: uuid("tenant_id").notNull(),
    /** `api_key:<id>`, `user:<id>` or `system`. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    data: jsonb("data").notNull().default({}),
    requestId: text("request_id"),
    createdAt: createdAt(),
  },
  (t) => [index("audit_log_tenant_created_idx").on(t.tenantId, t.createdAt)],
);

export type Batch = typeof batches.$inferSelect;
export type Recipient = typeof recipients.$inferSelect;
export type SendConfig = typeof sendConfigs.$inferSelect;
export type SendingDomain = typeof sendingDomains.$inferSelect;
export type BatchStatus = (typeof batchStatusEnum.enumValues)[number];
export type RecipientStatus = (typeof recipientStatusEnum.enumValues)[number];
export type Channel = (typeof channelEnum.enumValues)[number];
export type Provider = (typeof providerEnum.enumValues)[number];

/**
 * `Idempotency-Key` of a POST, per tenant (edge/middleware/idempotency.ts). `status` null means the first
 * request is still in flight; otherwise the stored answer is replayed for 24 h. `fingerprint` binds the key
 * to one method + path + body.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    status: integer("status"),
    responseBody: text("response_body"),
    createdAt: createdAt(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);
