/**
 * The sandbox's provider webhooks: emitted for accepted messages only once configured, in each provider's
 * format, and verified by the edge's own verifiers (SNS against the certificate the sandbox serves, Svix with
 * its whsec_ secret, Telnyx Ed25519 with its public key). Delays are milliseconds here.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCertCache, verifySnsMessage } from "../../edge/routes/provider-webhooks/verify-sns";
import { verifySvix } from "../../edge/routes/provider-webhooks/verify-svix";
import { verifyTelnyx } from "../../edge/routes/provider-webhooks/verify-telnyx";
import { sandboxCredentials } from "../config";
import { EventsConfig, planEvents } from "./events";
import { startSandbox, type Sandbox } from "./server";

interface Received {
  path: string;
  headers: Headers;
  body: string;
}

let sandbox: Sandbox;
let receiver: Server;
let receiverUrl: string;
let received: Received[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      received.push({ path: req.url ?? "", headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sandbox.close();
  await new Promise((r) => receiver.close(r));
});
beforeEach(() => {
  sandbox.reset();
  received = [];
});

async function configure(patch: Record<string, unknown>) {
  const res = await fetch(`${sandbox.url}/_sandbox/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(patch) });
  expect(res.status).toBe(200);
  return (await res.json()) as { enabled: boolean; verification: { snsCertUrl: string; snsTopicArn: string; svixSecret: string; telnyxPublicKey: string } };
}

const fast = { delayMs: { min: 5, max: 40 }, followUpDelayMs: { min: 5, max: 20 }, retryDelayMs: 10 };

async function sendSes(to: string, recipientId: string) {
  const c = new SESv2Client({
    region: sandboxCredentials.ses.region,
    endpoint: sandbox.url,
    credentials: { accessKeyId: sandboxCredentials.ses.accessKeyId, secretAccessKey: sandboxCredentials.ses.secretAccessKey },
    maxAttempts: 1,
  });
  const out = await c.send(
    new SendEmailCommand({
      FromEmailAddress: "News <news@mail.example.com>",
      Destination: { ToAddresses: [to] },
      Content: { Simple: { Subject: { Data: "Hi" }, Body: { Text: { Data: "Hi" } } } },
      EmailTags: [
        { Name: "batch_id", Value: "b-events" },
        { Name: "recipient_id", Value: recipientId },
        { Name: "tenant_id", Value: "t-events" },
      ],
    }),
  );
  return out.MessageId!;
}

async function sendResend(to: string) {
  const res = await fetch(`${sandbox.url}/emails`, {
    method: "POST",
    headers: { authorization: `Bearer ${sandboxCredentials.resend.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "News <news@mail.example.com>", to: [to], subject: "Hi", text: "Hi", tags: [{ name: "batch_id", value: "b-events" }] }),
  });
  return ((await res.json()) as { id: string }).id;
}

async function sendSms(to: string) {
  const res = await fetch(`${sandbox.url}/v2/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${sandboxCredentials.telnyx.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ to, messaging_profile_id: sandboxCredentials.telnyx.messagingProfileId, text: "Code 1234" }),
  });
  return ((await res.json()) as { data: { id: string } }).data.id;
}

async function waitForReceived(n: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return received;
}

describe("sandbox provider webhooks", () => {
  it("emit nothing unless configured", async () => {
    await sendResend("nobody@example.com");
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual([]);
    const state = (await (await fetch(`${sandbox.url}/_sandbox/events`)).json()) as { enabled: boolean };
    expect(state.enabled).toBe(false);
  });

  it("emit each provider's events in its format, and the edge's verifiers accept them", async () => {
    const v = await configure({
      ...fast,
      targets: { ses: `${receiverUrl}/webhooks/ses`, resend: `${receiverUrl}/webhooks/resend`, telnyx: `${receiverUrl}/webhooks/telnyx` },
      snsSignatureVersion: "2",
      outcomes: {
        "bounce@example.com": "hard_bounce",
        "clicker@example.com": "click",
        "complainer@example.com": "complaint",
        "+12015550100": "delivered",
        "+12015550101": "failed",
        "+12015550102": "stop",
      },
    });
    expect(v.verification.snsCertUrl).toBe(`${sandbox.url}/_sandbox/events/sns-cert.pem`);
    const sesBounce = await sendSes("bounce@example.com", "r-1");
    await sendSes("clicker@example.com", "r-2");
    const resendId = await sendResend("complainer@example.com");
    const smsIds = [await sendSms("+12015550100"), await sendSms("+12015550101"), await sendSms("+12015550102")];
    // ses: Send+Bounce, Send+Delivery+Open+Click; resend: sent+delivered+complained; telnyx: 3×(sent+finalized) + STOP
    const all = await waitForReceived(2 + 4 + 3 + 7);
    expect(all).toHaveLength(16);

    const sns = all.filter((r) => r.path === "/webhooks/ses");
    const snsOpts = { topicArns: [v.verification.snsTopicArn], certHostPattern: /^127\.0\.0\.1$/, allowHttpCertUrl: true, cache: createCertCache() };
    const sesEvents = [];
    for (const r of sns) {
      expect(r.headers.get("x-amz-sns-message-type")).toBe("Notification");
      expect(r.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
      const out = await verifySnsMessage(r.body, snsOpts);
      expect(out).toMatchObject({ ok: true, type: "Notification", messageId: r.headers.get("x-amz-sns-message-id") });
      sesEvents.push(JSON.parse((out as { message: string }).message) as { eventType: string; mail: { messageId: string; destination: string[]; tags: Record<string, string[]> }; bounce?: { bounceType: string } });
    }
    const bounceEvents = sesEvents.filter((e) => e.mail.destination[0] === "bounce@example.com");
    expect(bounceEvents.map((e) => e.eventType)).toEqual(["Send", "Bounce"]);
    expect(bounceEvents[1]).toMatchObject({ mail: { messageId: sesBounce, tags: { batch_id: ["b-events"], recipient_id: ["r-1"], tenant_id: ["t-events"] } }, bounce: { bounceType: "Permanent" } });
    expect(sesEvents.filter((e) => e.mail.destination[0] === "clicker@example.com").map((e) => e.eventType).sort()).toEqual(["Click", "Delivery", "Open", "Send"]);
    // Tampering breaks the SNS signature.
    const tampered = JSON.stringify({ ...JSON.parse(sns[0]!.body), Message: "{}" });
    expect(await verifySnsMessage(tampered, snsOpts)).toMatchObject({ ok: false, reason: "bad_signature" });

    const resend = all.filter((r) => r.path === "/webhooks/resend");
    const resendTypes = resend.map((r) => {
      const out = verifySvix(r.body, r.headers, v.verification.svixSecret);
      expect(out.ok).toBe(true);
      const p = (out as { payload: { type: string; data: { email_id: string; tags?: Record<string, string> } } }).payload;
      expect(p.data.email_id).toBe(resendId);
      expect(p.data.tags).toEqual({ batch_id: "b-events" });
      return p.type;
    });
    expect(resendTypes.sort()).toEqual(["email.complained", "email.delivered", "email.sent"]);

    const telnyx = all.filter((r) => r.path === "/webhooks/telnyx");
    const tEvents = [];
    for (const r of telnyx) {
      const out = await verifyTelnyx(r.body, r.headers, v.verification.telnyxPublicKey);
      expect(out.ok).toBe(true);
      tEvents.push((out as unknown as { payload: { data: { event_type: string; payload: { id: string; direction: string; text: string; to: { status: string }[]; from: { phone_number: string } } } } }).payload.data);
    }
    const finalized = tEvents.filter((e) => e.event_type === "message.finalized");
    expect(Object.fromEntries(finalized.map((e) => [e.payload.id, e.payload.to[0]!.status]))).toEqual({
      [smsIds[0]!]: "delivered",
      [smsIds[1]!]: "delivery_failed",
      [smsIds[2]!]: "delivered",
    });
    const stop = tEvents.filter((e) => e.event_type === "message.received");
    expect(stop).toHaveLength(1);
    expect(stop[0]!.payload).toMatchObject({ direction: "inbound", text: "STOP", from: { phone_number: "+12015550102" } });
  });

  it("inject duplicates with the same event id, and events before the send result", async () => {
    const v = await configure({
      ...fast,
      delayMs: { min: 2_000, max: 2_000 },
      targets: { resend: `${receiverUrl}/webhooks/resend` },
      includeSendEvents: false,
      duplicateProbability: 1,
      beforeSendResultProbability: 1,
      outcomes: { "dup@example.com": "delivered" },
    });
    const sentAt = Date.now();
    await sendResend("dup@example.com");
    const all = await waitForReceived(2, 1_500);
    expect(all).toHaveLength(2);
    expect(Date.now() - sentAt).toBeLessThan(2_000); // not the configured 2 s delay: sent right away
    const ids = all.map((r) => r.headers.get("svix-id"));
    expect(ids[0]).toBe(ids[1]);
    for (const r of all) expect(verifySvix(r.body, r.headers, v.verification.svixSecret).ok).toBe(true);
  });

  it("inject reordering: a later event arrives before an earlier one", async () => {
    const v = await configure({
      ...fast,
      delayMs: { min: 50, max: 50 },
      followUpDelayMs: { min: 200, max: 200 },
      targets: { resend: `${receiverUrl}/webhooks/resend` },
      includeSendEvents: false,
      reorderProbability: 1,
      outcomes: { "reader@example.com": "click" },
    });
    await sendResend("reader@example.com");
    const all = await waitForReceived(3);
    const types = all.map((r) => (verifySvix(r.body, r.headers, v.verification.svixSecret) as { payload: { type: string } }).payload.type);
    expect(types.sort()).toEqual(["email.clicked", "email.delivered", "email.opened"]);
    expect(all.map((r) => (JSON.parse(r.body) as { type: string }).type)).not.toEqual(["email.delivered", "email.opened", "email.clicked"]);
  });

  it("stop emitting on reset", async () => {
    await configure({ ...fast, delayMs: { min: 300, max: 300 }, targets: { resend: `${receiverUrl}/webhooks/resend` } });
    await sendResend("late@example.com");
    await fetch(`${sandbox.url}/_sandbox/reset`, { method: "POST" });
    await new Promise((r) => setTimeout(r, 600));
    expect(received.filter((r) => r.body.includes("email.delivered"))).toEqual([]);
  });
});

describe("event plan", () => {
  const base = EventsConfig.parse({ targets: { ses: "http://127.0.0.1:1/x" } });

  it("is the same for the same seed and address whatever the order, and follows the configured mix", () => {
    const cfg = { ...base, email: { ...base.email, hardBounce: 0.08, softBounce: 0, complaint: 0, open: 0.5, click: 0.2 } };
    const addrs = Array.from({ length: 10_000 }, (_, i) => `user${i}@example.com`);
    const plans = addrs.map((to) => planEvents(cfg, { provider: "ses", to, batchId: "b1" }));
    expect(addrs.map((to) => planEvents(cfg, { provider: "ses", to, batchId: "b1" }))).toEqual(plans);
    const share = (kind: string) => plans.filter((p) => p.some((s) => s.kind === kind)).length / addrs.length;
    expect(share("hard_bounce")).toBeGreaterThan(0.07);
    expect(share("hard_bounce")).toBeLessThan(0.09);
    expect(share("open")).toBeGreaterThan(0.43);
    expect(share("open")).toBeLessThan(0.49);
    expect(share("click")).toBeGreaterThan(0.08);
    expect(share("click")).toBeLessThan(0.1);
    // Default realistic delays: every send result within 1–30 s.
    for (const p of plans) {
      const result = p.find((s) => s.kind === "delivered" || s.kind === "hard_bounce")!;
      expect(result.atMs).toBeGreaterThanOrEqual(1_000);
      expect(result.atMs).toBeLessThanOrEqual(30_000);
    }
    const other = addrs.map((to) => planEvents({ ...cfg, seed: 2 }, { provider: "ses", to, batchId: "b1" }));
    expect(other).not.toEqual(plans);
  });
});
