/**
 * POST /webhooks/{ses,resend,telnyx} through the real Worker: events signed by the provider sandbox (the same
 * code that emits them under `npm start`) are accepted and published to JetStream, normalised; forged
 * bodies, wrong keys, stale timestamps, replayed ids and (SNS) certificates from hosts outside the configured
 * pattern are refused with a problem and never published. Subscription confirmations only for the configured
 * topic, through the sandbox's SubscribeURL.
 */
import { SELF } from "cloudflare:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { streams, type ProviderEventMessage } from "../../core/contract";
import { createSnsSigner, createTelnyxSigner, newSvixSecret, signSnsMessage, svixHeaders, telnyxHeaders } from "../../dev/sandbox/provider-signing";
import { randomIp, testEnv } from "./harness";
import { connectNats, ensureStream } from "./nats";

const sandbox = testEnv.TEST_SANDBOX_URL as string;
const TOPIC = testEnv.SNS_TOPIC_ARNS as string;

interface Rendered {
  body: string;
  headers: Record<string, string>;
}

async function render(req: Record<string, unknown>): Promise<Rendered> {
  const res = await fetch(`${sandbox}/_sandbox/events/render`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Rendered;
}

async function post(provider: string, r: Rendered) {
  const res = await SELF.fetch(`https://api.batchsender.test/webhooks/${provider}`, {
    method: "POST",
    headers: { ...r.headers, "cf-connecting-ip": randomIp() },
    body: r.body,
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: text ? JSON.parse(text) : undefined };
}

let nc: NatsConnection;
const seen: ProviderEventMessage[] = [];

beforeAll(async () => {
  nc = await connectNats();
  await ensureStream(nc, streams.events);
  const sub = nc.subscribe("event.*.*");
  void (async () => {
    for await (const m of sub) seen.push(m.json<ProviderEventMessage>());
  })();
});
afterAll(async () => {
  await nc?.close();
});

async function published(eventId: string, timeoutMs = 5000): Promise<ProviderEventMessage[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !seen.some((e) => e.eventId === eventId)) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 100)); // a second copy would arrive by now
  return seen.filter((e) => e.eventId === eventId);
}

const ids = () => ({ tenantId: crypto.randomUUID(), batchId: crypto.randomUUID(), recipientId: "42" });

describe("POST /webhooks/ses", () => {
  it.each(["1", "2"])("accepts a genuine SNS notification (SignatureVersion %s), publishes it normalised, refuses its replay", async (version) => {
    const t = ids();
    const r = await render({ provider: "ses", kind: "hard_bounce", to: "gone@example.com", messageId: `ses-${crypto.randomUUID()}`, snsSignatureVersion: version, ...t });
    const eventId = JSON.parse(r.body).MessageId as string;
    const first = await post("ses", r);
    expect(first).toMatchObject({ status: 200, body: { received: true, eventId } });
    const [ev, ...more] = await published(eventId);
    expect(more).toEqual([]);
    expect(ev).toMatchObject({ provider: "ses", eventId, type: "bounced", bounceType: "hard", providerType: "Bounce", tenantId: t.tenantId, batchId: t.batchId, recipientId: "42" });
    expect(ev!.providerMessageId).toMatch(/^ses-/);
    const replay = await post("ses", r);
    expect(replay.status).toBe(409);
    expect(replay.contentType).toContain("application/problem+json");
    expect(await published(eventId, 300)).toHaveLength(1);
  });

  it("refuses a forged body, another key's signature, a stale timestamp and a certificate from a host outside the pattern", async () => {
    const genuine = await render({ provider: "ses", kind: "delivered", to: "a@example.com", ...ids() });
    const msg = JSON.parse(genuine.body) as Record<string, string>;
    const forged = { ...genuine, body: JSON.stringify({ ...msg, Message: msg.Message!.replace("Delivery", "Complaint") }) };
    expect((await post("ses", forged)).status).toBe(401);

    const other = await createSnsSigner();
    const { Signature: _s, SignatureVersion: _v, SigningCertURL: certUrl, ...unsigned } = msg;
    const wrongKey = await signSnsMessage(other, { ...unsigned, MessageId: crypto.randomUUID() }, { certUrl: certUrl! });
    expect((await post("ses", { ...genuine, body: JSON.stringify(wrongKey) })).status).toBe(401);

    const stale = await render({ provider: "ses", kind: "delivered", to: "a@example.com", ageSeconds: 360, ...ids() });
    expect((await post("ses", stale)).body).toMatchObject({ status: 401, detail: "webhook refused: stale" });

    for (const url of ["https://evil.example.com/SimpleNotificationService.pem", "http://sns.eu-central-1.amazonaws.com.evil.test/c.pem", "https://sns.eu-central-1.amazonaws.com/c.pem"]) {
      const foreign = await signSnsMessage(other, { ...unsigned, MessageId: crypto.randomUUID() }, { certUrl: url });
      expect((await post("ses", { ...genuine, body: JSON.stringify(foreign) })).body, url).toMatchObject({ status: 401, detail: "webhook refused: cert_url_not_allowed" });
    }
    for (const bad of [forged, stale]) expect(await published(JSON.parse(bad.body).MessageId, 300)).toEqual([]);
    expect(await published(wrongKey.MessageId!, 300)).toEqual([]);
  });

  it("confirms a subscription for the configured topic only, through its SubscribeURL", async () => {
    const before = ((await (await fetch(`${sandbox}/_sandbox/events/subscriptions`)).json()) as { data: { topicArn: string }[] }).data.length;
    const other = "arn:aws:sns:eu-central-1:999999999999:someone-elses-topic";
    expect(await post("ses", await render({ provider: "ses", kind: "subscribe", to: "-", topicArn: other }))).toMatchObject({ status: 200, body: { subscription: "ignored" } });
    expect(await post("ses", await render({ provider: "ses", kind: "subscribe", to: "-", topicArn: TOPIC }))).toMatchObject({ status: 200, body: { subscription: "confirmed" } });
    const after = ((await (await fetch(`${sandbox}/_sandbox/events/subscriptions`)).json()) as { data: { topicArn: string }[] }).data;
    expect(after.slice(before).map((s) => s.topicArn)).toEqual([TOPIC]);
  });

  it("answers malformed bodies with a 400 problem, never a 5xx", async () => {
    for (const body of ["not json", "{}", JSON.stringify({ Type: "Notification" })]) {
      const res = await post("ses", { body, headers: { "content-type": "text/plain" } });
      expect(res.status, body).toBe(400);
    }
  });
});

describe("POST /webhooks/resend", () => {
  it("accepts a genuine Svix-signed event and refuses its replay", async () => {
    const t = ids();
    const r = await render({ provider: "resend", kind: "open", to: "b@example.com", messageId: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", ...t });
    const eventId = r.headers["svix-id"]!;
    expect(await post("resend", r)).toMatchObject({ status: 200, body: { eventId } });
    const [ev] = await published(eventId);
    expect(ev).toMatchObject({ provider: "resend", eventId, providerMessageId: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", tenantId: t.tenantId, batchId: t.batchId });
    expect((await post("resend", r)).status).toBe(409);
  });

  it("refuses a forged body, a wrong secret and a stale timestamp", async () => {
    const r = await render({ provider: "resend", kind: "delivered", to: "b@example.com", ...ids() });
    expect((await post("resend", { ...r, body: r.body.replace("email.delivered", "email.bounced") })).status).toBe(401);
    const id = `msg_${crypto.randomUUID().replace(/-/g, "")}`;
    const wrong = svixHeaders(newSvixSecret(), id, r.body, Math.floor(Date.now() / 1000));
    expect((await post("resend", { body: r.body, headers: { ...r.headers, ...wrong } })).status).toBe(401);
    const stale = await render({ provider: "resend", kind: "delivered", to: "b@example.com", ageSeconds: 360, ...ids() });
    expect((await post("resend", stale)).body).toMatchObject({ status: 401, detail: "webhook refused: stale" });
    expect(await published(id, 300)).toEqual([]);
  });
});

describe("POST /webhooks/telnyx", () => {
  it("accepts a genuine Ed25519-signed event, normalises STOP replies, refuses a replay", async () => {
    const r = await render({ provider: "telnyx", kind: "delivered", to: "+4915112345678", messageId: "40385f64-5717-4562-b3fc-2c963f66afa6" });
    const eventId = JSON.parse(r.body).data.id as string;
    expect(await post("telnyx", r)).toMatchObject({ status: 200, body: { eventId } });
    expect((await published(eventId))[0]).toMatchObject({ provider: "telnyx", type: "delivered", providerMessageId: "40385f64-5717-4562-b3fc-2c963f66afa6" });
    expect((await post("telnyx", r)).status).toBe(409);

    const stop = await render({ provider: "telnyx", kind: "stop", to: "+4915112345678", from: "+15550001111" });
    const stopId = JSON.parse(stop.body).data.id as string;
    expect((await post("telnyx", stop)).status).toBe(200);
    expect((await published(stopId))[0]).toMatchObject({ type: "stop", address: "+4915112345678", to: "+15550001111" });
  });

  it("refuses a forged body, another key and a stale timestamp", async () => {
    const r = await render({ provider: "telnyx", kind: "delivered", to: "+4915112345678" });
    expect((await post("telnyx", { ...r, body: r.body.replace('"delivered"', '"delivery_failed"') })).status).toBe(401);
    const other = await createTelnyxSigner();
    const wrong = await telnyxHeaders(other, r.body, Math.floor(Date.now() / 1000));
    expect((await post("telnyx", { body: r.body, headers: { ...r.headers, ...wrong } })).status).toBe(401);
    const stale = await render({ provider: "telnyx", kind: "delivered", to: "+4915112345678", ageSeconds: 360 });
    expect((await post("telnyx", stale)).body).toMatchObject({ status: 401, detail: "webhook refused: stale" });
    expect(await published(JSON.parse(r.body).data.id, 300)).toEqual([]);
  });
});
