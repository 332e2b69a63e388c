/**
 * The sandbox's provider webhooks: for every message it accepted, the events the real provider would send
 * later, in the provider's own format and signature (shared/PROVIDERS.md), POSTed to a target URL per provider:
 * - SES: SNS `Notification` envelopes (SES event publishing JSON inside `Message`), signed SignatureVersion 1
 *   or 2 with an RSA key whose self-signed certificate the sandbox serves at `GET /_sandbox/events/sns-cert.pem`;
 * - Resend: `{type, created_at, data}` with Svix headers (`whsec_` secret);
 * - Telnyx: `{data:{record_type:"event",…}, meta}` signed with Ed25519 over `timestamp|body`, plus inbound
 *   `message.received` STOP replies.
 *
 * Disabled until `POST /_sandbox/events` names at least one target, so nothing else in the sandbox changes.
 * The outcome of each recipient is drawn from a generator seeded by (seed, address, batch), so a run is
 * reproducible whatever order the sends arrive in; `outcomes` pins an address's outcome. Delays default to
 * the realistic 1–30 s and are configurable down to milliseconds for tests. Faults the events consumer must
 * survive are injectable: duplicates (same event id, re-signed), reordering (a later event sent first) and
 * events sent right away, before the sender has recorded the send result.
 *
 * Wiring: `attachEvents(state, baseUrl)` hooks the message store and the reset; `routeEvents` serves the
 * control and certificate endpoints.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { SandboxState } from "./flow";
import { parseJson, problem } from "./http";
import { sandboxWebhookKeys } from "../config";
import { createSnsSigner, signSnsMessage, svixHeaders, telnyxHeaders, telnyxSignerFromPkcs8, type SnsSigner, type TelnyxSigner } from "./provider-signing";
import type { Provider, Reply, SandboxMessage } from "./types";

const prob = z.number().min(0).max(1);
const range = z.strictObject({ min: z.number().int().min(0).max(3_600_000), max: z.number().int().min(0).max(3_600_000) }).refine((r) => r.min <= r.max, "min must be ≤ max");
const Outcome = z.enum(["delivered", "hard_bounce", "soft_bounce", "complaint", "open", "click", "failed", "stop"]);
export type Outcome = z.infer<typeof Outcome>;

export const EventsConfig = z.strictObject({
  targets: z.strictObject({ ses: z.url().optional(), resend: z.url().optional(), telnyx: z.url().optional() }).default({}),
  seed: z.number().int().default(1),
  /** Email: the rest is delivered. Opens/complaints only follow a delivery, clicks only an open. */
  email: z
    .strictObject({ hardBounce: prob.default(0.015), softBounce: prob.default(0.005), complaint: prob.default(0.001), open: prob.default(0.3), click: prob.default(0.3) })
    .default({ hardBounce: 0.015, softBounce: 0.005, complaint: 0.001, open: 0.3, click: 0.3 }),
  /** SMS: the rest is delivered; STOP replies follow a delivery. */
  sms: z.strictObject({ failed: prob.default(0.02), stop: prob.default(0.005) }).default({ failed: 0.02, stop: 0.005 }),
  /** Pins the outcome of an address (overrides the mix): e.g. `{"bounce@example.com": "hard_bounce"}`. */
  outcomes: z.record(z.string(), Outcome).default({}),
  /** From acceptance to the send result event (delivered, bounced, failed). */
  delayMs: range.default({ min: 1_000, max: 30_000 }),
  /** From one event to the next (open after delivery, click after open, complaint, STOP). */
  followUpDelayMs: range.default({ min: 5_000, max: 120_000 }),
  duplicateProbability: prob.default(0),
  reorderProbability: prob.default(0),
  /** Sends the first event immediately, racing the provider's own answer to the sender. */
  beforeSendResultProbability: prob.default(0),
  includeSendEvents: z.boolean().default(true),
  snsTopicArn: z.string().default(sandboxWebhookKeys.snsTopicArn),
  snsSignatureVersion: z.enum(["1", "2"]).default("1"),
  /** Retries of a webhook that did not get a 2xx (SNS default: 3, 20 s apart). */
  retries: z.number().int().min(0).max(10).default(3),
  retryDelayMs: z.number().int().min(0).max(600_000).default(20_000),
});
export type EventsConfig = z.infer<typeof EventsConfig>;

export interface EmittedEvent {
  provider: Provider;
  /** Provider event id (SNS MessageId, svix-id, Telnyx data.id): the same for a duplicate. */
  id: string;
  type: string;
  messageId: string;
  to: string;
  status: number | "error";
  duplicate: boolean;
  sentAtMs: number;
}

interface EventsState {
  config?: EventsConfig;
  baseUrl: string;
  sns?: SnsSigner;
  telnyx?: TelnyxSigner;
  svixSecret: string;
  timers: Set<ReturnType<typeof setTimeout>>;
  emitted: EmittedEvent[];
  /** SNS subscriptions confirmed through SubscribeURL (GET /_sandbox/events/sns-subscribe). */
  subscriptions: { topicArn: string; token: string }[];
}

const registry = new WeakMap<SandboxState, EventsState>();

export function attachEvents(state: SandboxState, baseUrl: string): void {
  // The local stack's fixed keys (dev/config.ts), so the local edge verifies what this sandbox signs.
  const ev: EventsState = { baseUrl, svixSecret: sandboxWebhookKeys.svixSecret, timers: new Set(), emitted: [], subscriptions: [] };
  registry.set(state, ev);
  const add = state.store.add.bind(state.store);
  state.store.add = (m) => {
    add(m);
    if (ev.config) scheduleFor(ev, m);
  };
  const reset = state.control.reset.bind(state.control);
  state.control.reset = () => {
    reset();
    stop(ev);
  };
}

function stop(ev: EventsState): void {
  for (const t of ev.timers) clearTimeout(t);
  ev.timers.clear();
  ev.config = undefined;
  ev.emitted = [];
}

/** `/_sandbox/events*`; undefined for any other path. */
export async function routeEvents(state: SandboxState, method: string, rawPath: string, body: Buffer): Promise<Reply | undefined> {
  if (!rawPath.startsWith("/_sandbox/events")) return undefined;
  const path = rawPath.split("?")[0]!;
  const ev = registry.get(state);
  if (!ev) return problem(404, "Not found", "events are not attached to this sandbox");
  const key = `${method} ${path}`;
  if (key === "GET /_sandbox/events/sns-cert.pem") {
    await ensureSigners(ev);
    return { status: 200, headers: { "content-type": "application/x-pem-file" }, body: ev.sns!.certPem };
  }
  if (key === "GET /_sandbox/events") return { status: 200, body: snapshot(ev) };
  if (key === "GET /_sandbox/events/sns-subscribe") {
    // SNS's SubscribeURL: answered with a ConfirmSubscriptionResponse, the subscription recorded.
    const q = new URL(`http://x${rawPath}`).searchParams;
    const topicArn = q.get("TopicArn") ?? "";
    ev.subscriptions.push({ topicArn, token: q.get("Token") ?? "" });
    const xml = `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${topicArn}:sandbox</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`;
    return { status: 200, headers: { "content-type": "text/xml" }, body: xml };
  }
  if (key === "GET /_sandbox/events/subscriptions") return { status: 200, body: { data: ev.subscriptions } };
  if (key === "POST /_sandbox/events/render") {
    // One event, signed now exactly as the emitter would send it; for tests that post it themselves.
    const parsed = RenderRequest.safeParse(parseJson(body) ?? null);
    if (!parsed.success) return problem(422, "Validation failed", "invalid render request", parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
    await ensureSigners(ev);
    const r = parsed.data;
    if (r.kind === "subscribe") return { status: 200, body: await renderSubscription(ev, r.topicArn ?? sandboxWebhookKeys.snsTopicArn, r.snsSignatureVersion) };
    const cfg = ev.config ?? EventsConfig.parse({ snsSignatureVersion: r.snsSignatureVersion });
    const m: SandboxMessage = {
      id: r.messageId ?? randomUUID(),
      provider: r.provider,
      from: r.from ?? (r.provider === "telnyx" ? "+15550001111" : "hello@sandbox.batchsender.dev"),
      to: r.to,
      receivedAt: new Date().toISOString(),
      receivedAtMs: Date.now(),
      ...(r.tenantId ? { tenantId: r.tenantId } : {}),
      ...(r.batchId ? { batchId: r.batchId } : {}),
      ...(r.recipientId ? { recipientId: r.recipientId } : {}),
    } as SandboxMessage;
    const out = await render(ev, { ...cfg, snsSignatureVersion: r.snsSignatureVersion }, r.target ?? "http://127.0.0.1/", m, { kind: r.kind as Step["kind"], atMs: 0 }, r.eventId ?? eventId(r.provider), new Date(Date.now() - r.ageSeconds * 1000));
    return { status: 200, body: out };
  }
  if (key === "GET /_sandbox/events/emitted") return { status: 200, body: { data: ev.emitted } };
  if (key === "POST /_sandbox/events") {
    const parsed = EventsConfig.safeParse(parseJson(body) ?? null);
    if (!parsed.success) {
      return problem(422, "Validation failed", "invalid events configuration", parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
    }
    await ensureSigners(ev);
    const enabled = Object.values(parsed.data.targets).some(Boolean);
    ev.config = enabled ? parsed.data : undefined;
    return { status: 200, body: snapshot(ev) };
  }
  if (key === "DELETE /_sandbox/events") {
    stop(ev);
    return { status: 204 };
  }
  return problem(405, "Method not allowed", `${method} is not allowed on ${path}`);
}

const RenderRequest = z.strictObject({
  provider: z.enum(["ses", "resend", "telnyx"]),
  /** An event of a message, or (SES) an SNS SubscriptionConfirmation for `topicArn`. */
  kind: z.union([Outcome, z.literal("sent"), z.literal("subscribe")]),
  topicArn: z.string().optional(),
  to: z.string().min(1),
  from: z.string().optional(),
  messageId: z.string().optional(),
  eventId: z.string().optional(),
  tenantId: z.string().optional(),
  batchId: z.string().optional(),
  recipientId: z.string().optional(),
  target: z.url().optional(),
  snsSignatureVersion: z.enum(["1", "2"]).default("1"),
  /** Signs as if sent this many seconds ago (stale-timestamp tests). */
  ageSeconds: z.number().int().min(0).max(86_400).default(0),
});

/** An SNS SubscriptionConfirmation whose SubscribeURL is this sandbox (GET /_sandbox/events/sns-subscribe). */
async function renderSubscription(ev: EventsState, topicArn: string, version: "1" | "2") {
  const token = randomUUID().replace(/-/g, "");
  const msg = await signSnsMessage(
    ev.sns!,
    {
      Type: "SubscriptionConfirmation",
      MessageId: randomUUID(),
      Token: token,
      TopicArn: topicArn,
      Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `${ev.baseUrl}/_sandbox/events/sns-subscribe?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`,
      Timestamp: new Date().toISOString(),
    },
    { certUrl: `${ev.baseUrl}/_sandbox/events/sns-cert.pem`, version },
  );
  return {
    type: "SubscriptionConfirmation",
    body: JSON.stringify(msg),
    headers: { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "SubscriptionConfirmation", "x-amz-sns-message-id": msg.MessageId!, "x-amz-sns-topic-arn": topicArn },
  };
}

async function ensureSigners(ev: EventsState): Promise<void> {
  ev.sns ??= await createSnsSigner({ commonName: "sns.sandbox.amazonaws.com" });
  ev.telnyx ??= await telnyxSignerFromPkcs8(sandboxWebhookKeys.telnyxPrivateKeyPkcs8, sandboxWebhookKeys.telnyxPublicKey);
}

function snapshot(ev: EventsState) {
  return {
    enabled: Boolean(ev.config),
    config: ev.config ?? null,
    /** What a receiver needs to verify the events. */
    verification: {
      snsCertUrl: `${ev.baseUrl}/_sandbox/events/sns-cert.pem`,
      snsTopicArn: ev.config?.snsTopicArn ?? null,
      svixSecret: ev.svixSecret,
      telnyxPublicKey: ev.telnyx?.publicKeyBase64 ?? null,
    },
    pending: ev.timers.size,
    emitted: ev.emitted.length,
  };
}

/** mulberry32 over a string hash: small, seedable, good enough for picking outcomes. */
function rngFor(seed: number, key: string): () => number {
  let h = seed ^ 0x9e3779b9;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x85ebca6b) ^ (h >>> 13);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Step = { kind: "sent" | "delivered" | "hard_bounce" | "soft_bounce" | "complaint" | "open" | "click" | "failed" | "stop"; atMs: number };

/** The events one recipient will produce, with their delays from acceptance. */
export function planEvents(cfg: EventsConfig, m: Pick<SandboxMessage, "provider" | "to" | "batchId">): Step[] {
  const rnd = rngFor(cfg.seed, `${m.to}|${m.batchId ?? ""}`);
  const between = (r: { min: number; max: number }) => r.min + Math.floor(rnd() * (r.max - r.min + 1));
  const pinned = cfg.outcomes[m.to];
  const steps: Step[] = [];
  let t = between(cfg.delayMs);
  if (cfg.includeSendEvents && m.provider !== "telnyx") steps.push({ kind: "sent", atMs: 0 });
  else if (cfg.includeSendEvents) steps.push({ kind: "sent", atMs: Math.min(t, 1000) });
  if (m.provider === "telnyx") {
    const r = rnd();
    const outcome = pinned ?? (r < cfg.sms.failed ? "failed" : rnd() < cfg.sms.stop ? "stop" : "delivered");
    steps.push({ kind: outcome === "failed" ? "failed" : "delivered", atMs: t });
    if (outcome === "stop") steps.push({ kind: "stop", atMs: t + between(cfg.followUpDelayMs) });
    return steps;
  }
  const e = cfg.email;
  const r = rnd();
  const drawn: Outcome = r < e.hardBounce ? "hard_bounce" : r < e.hardBounce + e.softBounce ? "soft_bounce" : "delivered";
  const outcome = pinned ?? drawn;
  if (outcome === "hard_bounce" || outcome === "soft_bounce") {
    steps.push({ kind: outcome, atMs: t });
    return steps;
  }
  steps.push({ kind: "delivered", atMs: t });
  const opens = outcome === "open" || outcome === "click" || (pinned === undefined && rnd() < e.open);
  if (opens) {
    steps.push({ kind: "open", atMs: (t += between(cfg.followUpDelayMs)) });
    if (outcome === "click" || (pinned === undefined && rnd() < e.click)) steps.push({ kind: "click", atMs: (t += between(cfg.followUpDelayMs)) });
  }
  if (outcome === "complaint" || (pinned === undefined && rnd() < e.complaint)) steps.push({ kind: "complaint", atMs: t + between(cfg.followUpDelayMs) });
  return steps;
}

function scheduleFor(ev: EventsState, m: SandboxMessage): void {
  const cfg = ev.config!;
  const target = cfg.targets[m.provider];
  if (!target) return;
  const steps = planEvents(cfg, m);
  // Fault injection draws from its own stream so turning it on does not change the outcomes.
  const rnd = rngFor(cfg.seed + 1, `${m.to}|${m.batchId ?? ""}`);
  const firstResult = steps.findIndex((s) => s.kind !== "sent");
  if (firstResult >= 0 && rnd() < cfg.beforeSendResultProbability) steps[firstResult]!.atMs = 0;
  if (steps.length >= 2 && rnd() < cfg.reorderProbability) {
    const i = Math.floor(rnd() * (steps.length - 1));
    const a = steps[i]!.atMs;
    steps[i]!.atMs = steps[i + 1]!.atMs + 1;
    steps[i + 1]!.atMs = a;
  }
  for (const step of steps) {
    const id = eventId(m.provider);
    const dup = rnd() < cfg.duplicateProbability;
    later(ev, step.atMs, () => deliver(ev, cfg, target, m, step, id, false));
    if (dup) later(ev, step.atMs + 1 + Math.floor(rnd() * 1000), () => deliver(ev, cfg, target, m, step, id, true));
  }
}

function later(ev: EventsState, ms: number, fn: () => Promise<void>): void {
  const t = setTimeout(() => {
    ev.timers.delete(t);
    fn().catch((err: unknown) => console.error("sandbox events: emit failed", err));
  }, ms);
  t.unref();
  ev.timers.add(t);
}

function eventId(provider: Provider): string {
  if (provider === "resend") return `msg_${randomUUID().replace(/-/g, "").slice(0, 27)}`;
  return randomUUID();
}

async function deliver(ev: EventsState, cfg: EventsConfig, target: string, m: SandboxMessage, step: Step, id: string, duplicate: boolean): Promise<void> {
  if (ev.config !== cfg) return; // reconfigured or reset meanwhile
  const { type, body, headers } = await render(ev, cfg, target, m, step, id);
  let status: number | "error" = "error";
  for (let attempt = 0; attempt <= cfg.retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, cfg.retryDelayMs).unref());
    if (ev.config !== cfg) return;
    // Each attempt is signed afresh, as providers do on retries (same event id, new timestamp).
    const signed = attempt === 0 ? { body, headers } : await render(ev, cfg, target, m, step, id);
    try {
      const res = await fetch(target, { method: "POST", headers: signed.headers, body: signed.body, signal: AbortSignal.timeout(15_000), redirect: "manual" });
      await res.arrayBuffer().catch(() => undefined);
      status = res.status;
      if (res.status >= 200 && res.status < 300) break;
    } catch {
      status = "error";
    }
  }
  ev.emitted.push({ provider: m.provider, id, type, messageId: m.id, to: m.to, status, duplicate, sentAtMs: Date.now() });
}

const SES_TYPES: Record<Step["kind"], string> = {
  sent: "Send",
  delivered: "Delivery",
  hard_bounce: "Bounce",
  soft_bounce: "Bounce",
  complaint: "Complaint",
  open: "Open",
  click: "Click",
  failed: "Rendering Failure",
  stop: "Subscription",
};
const RESEND_TYPES: Record<Step["kind"], string> = {
  sent: "email.sent",
  delivered: "email.delivered",
  hard_bounce: "email.bounced",
  soft_bounce: "email.bounced",
  complaint: "email.complained",
  open: "email.opened",
  click: "email.clicked",
  failed: "email.failed",
  stop: "email.suppressed",
};

async function render(
  ev: EventsState,
  cfg: EventsConfig,
  target: string,
  m: SandboxMessage,
  step: Step,
  id: string,
  now = new Date(),
): Promise<{ type: string; body: string; headers: Record<string, string> }> {
  const nowSec = Math.floor(now.getTime() / 1000);
  const ts = now.toISOString();
  if (m.provider === "ses") {
    const messageId = m.id.split("#")[0]!;
    const domain = m.from.replace(/^.*@/, "").replace(/>$/, "");
    const tags: Record<string, string[]> = { "ses:configuration-set": ["batchsender"], "ses:from-domain": [domain] };
    for (const [k, v] of [["batch_id", m.batchId], ["recipient_id", m.recipientId], ["tenant_id", m.tenantId]] as const) if (v) tags[k] = [v];
    const sesEvent: Record<string, unknown> = {
      eventType: SES_TYPES[step.kind],
      mail: {
        timestamp: m.receivedAt,
        source: m.from,
        sourceArn: `arn:aws:ses:eu-central-1:000000000000:identity/${domain}`,
        sendingAccountId: "000000000000",
        messageId,
        destination: [m.to],
        headersTruncated: false,
        headers: Object.entries(m.headers ?? {}).map(([name, value]) => ({ name, value })),
        commonHeaders: { from: [m.from], to: [m.to], messageId, subject: m.subject ?? "" },
        tags,
      },
    };
    if (step.kind === "sent") sesEvent.send = {};
    if (step.kind === "delivered") {
      sesEvent.delivery = { timestamp: ts, processingTimeMillis: now.getTime() - m.receivedAtMs, recipients: [m.to], smtpResponse: "250 2.6.0 Message received", reportingMTA: "a8-27.smtp-out.amazonses.com" };
    }
    if (step.kind === "hard_bounce" || step.kind === "soft_bounce") {
      const hard = step.kind === "hard_bounce";
      sesEvent.bounce = {
        bounceType: hard ? "Permanent" : "Transient",
        bounceSubType: hard ? "General" : "MailboxFull",
        bouncedRecipients: [{ emailAddress: m.to, action: "failed", status: hard ? "5.1.1" : "4.2.2", diagnosticCode: hard ? "smtp; 550 5.1.1 user unknown" : "smtp; 452 4.2.2 mailbox full" }],
        timestamp: ts,
        feedbackId: `0100018c-${randomUUID()}-000000`,
        reportingMTA: "dsn; a8-27.smtp-out.amazonses.com",
      };
    }
    if (step.kind === "complaint") {
      sesEvent.complaint = { complainedRecipients: [{ emailAddress: m.to }], timestamp: ts, feedbackId: `0100018c-${randomUUID()}-000000`, complaintSubType: null, userAgent: "Yahoo!-Mail-Feedback/2.0", complaintFeedbackType: "abuse", arrivalDate: ts };
    }
    if (step.kind === "open") sesEvent.open = { ipAddress: "192.0.2.1", timestamp: ts, userAgent: "Mozilla/5.0" };
    if (step.kind === "click") sesEvent.click = { ipAddress: "192.0.2.1", timestamp: ts, userAgent: "Mozilla/5.0", link: "https://example.com/", linkTags: {} };
    const msg = await signSnsMessage(
      ev.sns!,
      {
        Type: "Notification",
        MessageId: id,
        TopicArn: cfg.snsTopicArn,
        Message: JSON.stringify(sesEvent),
        Timestamp: ts,
        UnsubscribeURL: `${ev.baseUrl}/_sandbox/events/sns-unsubscribe?SubscriptionArn=${encodeURIComponent(cfg.snsTopicArn)}:sandbox`,
      },
      { certUrl: `${ev.baseUrl}/_sandbox/events/sns-cert.pem`, version: cfg.snsSignatureVersion },
    );
    return {
      type: SES_TYPES[step.kind],
      body: JSON.stringify(msg),
      headers: {
        "content-type": "text/plain; charset=UTF-8",
        "user-agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": id,
        "x-amz-sns-topic-arn": cfg.snsTopicArn,
        "x-amz-sns-subscription-arn": `${cfg.snsTopicArn}:sandbox`,
      },
    };
  }
  if (m.provider === "resend") {
    const data: Record<string, unknown> = {
      email_id: m.id,
      created_at: m.receivedAt,
      from: m.from,
      to: [m.to],
      subject: m.subject ?? "",
      ...(m.batchId || m.recipientId ? { tags: { ...(m.batchId ? { batch_id: m.batchId } : {}), ...(m.recipientId ? { recipient_id: m.recipientId } : {}), ...(m.tenantId ? { tenant_id: m.tenantId } : {}) } } : {}),
    };
    if (step.kind === "hard_bounce") data.bounce = { type: "Permanent", subType: "General", message: "The recipient's email address does not exist." };
    if (step.kind === "soft_bounce") data.bounce = { type: "Transient", subType: "MailboxFull", message: "The recipient's mailbox is full." };
    if (step.kind === "click") data.click = { ipAddress: "192.0.2.1", link: "https://example.com/", timestamp: ts, userAgent: "Mozilla/5.0" };
    const body = JSON.stringify({ type: RESEND_TYPES[step.kind], created_at: ts, data });
    return { type: RESEND_TYPES[step.kind], body, headers: { "content-type": "application/json", ...svixHeaders(ev.svixSecret, id, body, nowSec) } };
  }
  // Telnyx
  const outbound = step.kind !== "stop";
  const status = step.kind === "sent" ? "sent" : step.kind === "failed" ? "delivery_failed" : "delivered";
  const payload = outbound
    ? {
        record_type: "message",
        direction: "outbound",
        id: m.id,
        type: "SMS",
        from: { phone_number: m.from, carrier: "Telnyx", line_type: "Wireless" },
        to: [{ phone_number: m.to, status, carrier: "T-Mobile USA", line_type: "Wireless" }],
        text: m.text ?? "",
        errors: step.kind === "failed" ? [{ code: "40008", title: "Undeliverable", detail: "The message could not be delivered to the handset." }] : [],
        sent_at: m.receivedAt,
        completed_at: step.kind === "sent" ? null : ts,
        webhook_url: target,
      }
    : {
        record_type: "message",
        direction: "inbound",
        id: randomUUID(),
        type: "SMS",
        from: { phone_number: m.to, carrier: "T-Mobile USA", line_type: "Wireless" },
        to: [{ phone_number: m.from, status: "delivered", carrier: "Telnyx", line_type: "Wireless" }],
        text: "STOP",
        errors: [],
        received_at: ts,
      };
  const eventType = step.kind === "sent" ? "message.sent" : outbound ? "message.finalized" : "message.received";
  const body = JSON.stringify({ data: { record_type: "event", id, event_type: eventType, occurred_at: ts, payload }, meta: { attempt: 1, delivered_to: target } });
  return { type: eventType, body, headers: { "content-type": "application/json", ...(await telnyxHeaders(ev.telnyx!, body, nowSec)) } };
}
