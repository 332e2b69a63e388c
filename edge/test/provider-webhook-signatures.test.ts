/**
 * The provider webhook signature checks, run inside workerd (so they are proven edge-safe), against messages
 * signed the way each provider signs them (dev/sandbox/provider-signing.ts, also what the sandbox emits).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  createSnsSigner,
  createTelnyxSigner,
  newSvixSecret,
  signSnsMessage,
  svixHeaders,
  telnyxHeaders,
  type SnsSigner,
  type TelnyxSigner,
} from "../../dev/sandbox/provider-signing";
import { createCertCache, verifySnsMessage, type SnsVerifyOptions } from "../routes/provider-webhooks/verify-sns";
import { verifySvix } from "../routes/provider-webhooks/verify-svix";
import { verifyTelnyx } from "../routes/provider-webhooks/verify-telnyx";

const TOPIC = "arn:aws:sns:eu-central-1:123456789012:batchsender-ses-events";
const CERT_URL = "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem";
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("SNS (SES events)", () => {
  let signer: SnsSigner;
  let other: SnsSigner;
  beforeAll(async () => {
    signer = await createSnsSigner();
    other = await createSnsSigner();
  });

  /** Serves `pem` at any URL and records what was fetched. */
  function certServer(pem: () => string) {
    const fetched: string[] = [];
    const f = (async (input: RequestInfo | URL) => {
      fetched.push(String(input));
      return new Response(pem(), { headers: { "content-type": "application/x-pem-file" } });
    }) as typeof fetch;
    return { fetched, opts: (extra: Partial<SnsVerifyOptions> = {}): SnsVerifyOptions => ({ topicArns: [TOPIC], fetch: f, cache: createCertCache(), ...extra }) };
  }

  const notification = (over: Record<string, string> = {}) => ({
    Type: "Notification",
    MessageId: crypto.randomUUID(),
    TopicArn: TOPIC,
    Message: JSON.stringify({ eventType: "Delivery", mail: { messageId: "0100018c-ses-id" } }),
    Timestamp: new Date().toISOString(),
    UnsubscribeURL: "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe",
    ...over,
  });

  it("accepts genuine SignatureVersion 1 and 2 messages, with and without Subject, fetching the certificate once", async () => {
    const certs = certServer(() => signer.certPem);
    const opts = certs.opts();
    for (const version of ["1", "2"] as const) {
      for (const subject of [undefined, "Amazon SES Email Event Notification"]) {
        const msg = notification(subject ? { Subject: subject } : {});
        const r = await verifySnsMessage(JSON.stringify(await signSnsMessage(signer, msg, { certUrl: CERT_URL, version })), opts);
        expect(r).toMatchObject({ ok: true, type: "Notification", messageId: msg.MessageId, topicArn: TOPIC, message: msg.Message });
      }
    }
    expect(certs.fetched).toEqual([CERT_URL]);
  });

  it("rejects a forged message (body changed after signing) and a signature by another key", async () => {
    const certs = certServer(() => signer.certPem);
    const signed = await signSnsMessage(signer, notification(), { certUrl: CERT_URL, version: "2" });
    const forged = { ...signed, Message: JSON.stringify({ eventType: "Bounce" }) };
    expect(await verifySnsMessage(JSON.stringify(forged), certs.opts())).toEqual({ ok: false, reason: "bad_signature" });
    const byOther = await signSnsMessage(other, notification(), { certUrl: CERT_URL, version: "1" });
    expect(await verifySnsMessage(JSON.stringify(byOther), certs.opts())).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a stale timestamp even when genuinely signed", async () => {
    const certs = certServer(() => signer.certPem);
    const old = await signSnsMessage(signer, notification({ Timestamp: new Date(Date.now() - 6 * 60_000).toISOString() }), { certUrl: CERT_URL });
    expect(await verifySnsMessage(JSON.stringify(old), certs.opts())).toEqual({ ok: false, reason: "stale" });
  });

  it("never fetches a certificate from a host outside the pattern, over http, or without .pem", async () => {
    const certs = certServer(() => signer.certPem);
    for (const url of [
      "https://evil.example.com/SimpleNotificationService.pem",
      "https://sns.eu-central-1.amazonaws.com.evil.com/cert.pem",
      "https://sns.eu-central-1.amazonaws.com@evil.com/cert.pem",
      "http://sns.eu-central-1.amazonaws.com/cert.pem",
      "https://sns.eu-central-1.amazonaws.com/cert.txt",
      "https://s3.amazonaws.com/cert.pem",
    ]) {
      const msg = await signSnsMessage(signer, notification(), { certUrl: url });
      expect(await verifySnsMessage(JSON.stringify(msg), certs.opts()), url).toEqual({ ok: false, reason: "cert_url_not_allowed" });
    }
    expect(certs.fetched).toEqual([]);
    // China and GovCloud hosts are AWS's too.
    for (const host of ["sns.cn-north-1.amazonaws.com.cn", "sns.us-gov-west-1.amazonaws.com"]) {
      const msg = await signSnsMessage(signer, notification(), { certUrl: `https://${host}/c.pem` });
      expect((await verifySnsMessage(JSON.stringify(msg), certs.opts())).ok).toBe(true);
    }
  });

  it("takes the allowed host pattern from configuration (the sandbox serves its own certificate)", async () => {
    const certs = certServer(() => signer.certPem);
    const url = "http://127.0.0.1:18789/sns/SimpleNotificationService-sandbox.pem";
    const msg = JSON.stringify(await signSnsMessage(signer, notification(), { certUrl: url }));
    expect(await verifySnsMessage(msg, certs.opts())).toEqual({ ok: false, reason: "cert_url_not_allowed" });
    expect((await verifySnsMessage(msg, certs.opts({ certHostPattern: /^127\.0\.0\.1$/, allowHttpCertUrl: true }))).ok).toBe(true);
  });

  it("refuses unknown signature versions, unknown topics and malformed bodies", async () => {
    const certs = certServer(() => signer.certPem);
    const signed = await signSnsMessage(signer, notification(), { certUrl: CERT_URL });
    expect(await verifySnsMessage(JSON.stringify({ ...signed, SignatureVersion: "3" }), certs.opts())).toEqual({
      ok: false,
      reason: "unsupported_signature_version",
    });
    const otherTopic = await signSnsMessage(signer, notification({ TopicArn: "arn:aws:sns:eu-central-1:999:other" }), { certUrl: CERT_URL });
    expect(await verifySnsMessage(JSON.stringify(otherTopic), certs.opts())).toEqual({ ok: false, reason: "topic_not_allowed" });
    expect((await verifySnsMessage("not json", certs.opts())).ok).toBe(false);
    expect((await verifySnsMessage(JSON.stringify({ Type: "Notification" }), certs.opts())).ok).toBe(false);
  });

  it("decides to confirm a subscription only for a configured topic, and never fetches SubscribeURL", async () => {
    const certs = certServer(() => signer.certPem);
    const opts = certs.opts();
    const confirmation = (topic: string, subscribeUrl: string) =>
      signSnsMessage(
        signer,
        {
          Type: "SubscriptionConfirmation",
          MessageId: crypto.randomUUID(),
          Token: "2336412f37fb687f5d51e6e2425",
          TopicArn: topic,
          Message: `You have chosen to subscribe to the topic ${topic}.`,
          SubscribeURL: subscribeUrl,
          Timestamp: new Date().toISOString(),
        },
        { certUrl: CERT_URL },
      );
    const good = `https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336`;
    expect(await verifySnsMessage(JSON.stringify(await confirmation(TOPIC, good)), opts)).toMatchObject({
      ok: true,
      type: "SubscriptionConfirmation",
      action: "confirm",
      subscribeUrl: good,
    });
    expect(await verifySnsMessage(JSON.stringify(await confirmation("arn:aws:sns:eu-central-1:999:attacker", good)), opts)).toMatchObject({
      ok: true,
      action: "ignore",
    });
    expect(await verifySnsMessage(JSON.stringify(await confirmation(TOPIC, "https://evil.example.com/confirm")), opts)).toMatchObject({
      ok: true,
      action: "ignore",
    });
    expect(certs.fetched).toEqual([CERT_URL]);
  });

  it("does not remember a failed certificate fetch", async () => {
    let up = false;
    const fetched: string[] = [];
    const f = (async (input: RequestInfo | URL) => {
      fetched.push(String(input));
      return up ? new Response(signer.certPem) : new Response("down", { status: 503 });
    }) as typeof fetch;
    const opts: SnsVerifyOptions = { topicArns: [TOPIC], fetch: f, cache: createCertCache() };
    const msg = JSON.stringify(await signSnsMessage(signer, notification(), { certUrl: CERT_URL }));
    expect(await verifySnsMessage(msg, opts)).toMatchObject({ ok: false, reason: "cert_unavailable" });
    up = true;
    expect((await verifySnsMessage(msg, opts)).ok).toBe(true);
    expect(fetched).toHaveLength(2);
  });
});

describe("Svix (Resend)", () => {
  const body = JSON.stringify({ type: "email.delivered", created_at: "2026-12-01T10:00:00.000Z", data: { email_id: "4ef9a417" } });

  it("accepts a genuine event, also when the header carries several signatures or the secret rotated", () => {
    const secret = newSvixSecret();
    const h = svixHeaders(secret, "msg_2a7Yk", body, nowSeconds());
    expect(verifySvix(body, new Headers(h), secret)).toMatchObject({ ok: true, id: "msg_2a7Yk", payload: { type: "email.delivered" } });
    const old = newSvixSecret();
    const oldSig = svixHeaders(old, "msg_2a7Yk", body, nowSeconds())["svix-signature"];
    const both = { ...h, "svix-signature": `${oldSig} v1,bm90IGEgc2lnbmF0dXJl ${h["svix-signature"]}` };
    expect(verifySvix(body, new Headers(both), secret).ok).toBe(true);
    expect(verifySvix(body, new Headers(h), [old, secret]).ok).toBe(true);
  });

  it("rejects a forged body, a wrong secret and a stale timestamp", () => {
    const secret = newSvixSecret();
    const h = svixHeaders(secret, "msg_1", body, nowSeconds());
    expect(verifySvix(body.replace("delivered", "bounced"), new Headers(h), secret)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifySvix(body, new Headers(h), newSvixSecret())).toEqual({ ok: false, reason: "bad_signature" });
    const stale = svixHeaders(secret, "msg_1", body, nowSeconds() - 6 * 60);
    expect(verifySvix(body, new Headers(stale), secret)).toEqual({ ok: false, reason: "stale" });
    const future = svixHeaders(secret, "msg_1", body, nowSeconds() + 6 * 60);
    expect(verifySvix(body, new Headers(future), secret)).toEqual({ ok: false, reason: "stale" });
    expect(verifySvix(body, new Headers({ "svix-id": "msg_1" }), secret)).toEqual({ ok: false, reason: "missing_headers" });
  });
});

describe("Telnyx", () => {
  let signer: TelnyxSigner;
  let other: TelnyxSigner;
  beforeAll(async () => {
    signer = await createTelnyxSigner();
    other = await createTelnyxSigner();
  });
  const body = JSON.stringify({
    data: { record_type: "event", id: "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0", event_type: "message.finalized", occurred_at: "2026-12-01T10:00:00.000+00:00", payload: {} },
    meta: { attempt: 1, delivered_to: "https://example.com/webhooks/telnyx" },
  });

  it("accepts a genuine event and exposes its id", async () => {
    const h = await telnyxHeaders(signer, body, nowSeconds());
    expect(await verifyTelnyx(body, new Headers(h), signer.publicKeyBase64)).toMatchObject({
      ok: true,
      id: "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
      eventType: "message.finalized",
    });
  });

  it("rejects a forged body, a wrong key, a stale timestamp and a changed timestamp", async () => {
    const ts = nowSeconds();
    const h = await telnyxHeaders(signer, body, ts);
    expect(await verifyTelnyx(body.replace("finalized", "received"), new Headers(h), signer.publicKeyBase64)).toEqual({ ok: false, reason: "bad_signature" });
    expect(await verifyTelnyx(body, new Headers(h), other.publicKeyBase64)).toEqual({ ok: false, reason: "bad_signature" });
    expect(await verifyTelnyx(body, new Headers({ ...h, "telnyx-timestamp": String(ts + 1) }), signer.publicKeyBase64)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    const stale = await telnyxHeaders(signer, body, ts - 6 * 60);
    expect(await verifyTelnyx(body, new Headers(stale), signer.publicKeyBase64)).toEqual({ ok: false, reason: "stale" });
    expect(await verifyTelnyx(body, new Headers(h), "dG9vIHNob3J0")).toEqual({ ok: false, reason: "bad_key" });
    expect(await verifyTelnyx(body, new Headers({}), signer.publicKeyBase64)).toEqual({ ok: false, reason: "missing_headers" });
  });
});
