/**
 * Amazon SNS message signatures (SES events arrive through SNS), per
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html and AWS's own validators
 * (aws-js-sns-message-validator, aws-php-sns-message-validator), see shared/PROVIDERS.md §1:
 * - SignatureVersion "1" = SHA1withRSA, "2" = SHA256withRSA; anything else is refused;
 * - the string to sign is `key\nvalue\n` for the type's keys in byte order (Subject only when present);
 * - the signing certificate is fetched only over https, from a host matching the configured pattern (AWS's
 *   `^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$` by default; the sandbox configures its own), with a
 *   `.pem` path, and cached per URL;
 * - a SubscriptionConfirmation is only ever *decided* here: `confirm` for a configured topic ARN, otherwise
 *   `ignore`. Nothing here fetches SubscribeURL.
 * Edge-safe: WebCrypto and @peculiar/asn1-x509 (pure JS) to read the RSA key out of the certificate.
 * Replay protection needs storage; the verified `messageId` is returned for the route to check.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";

export const DEFAULT_SNS_CERT_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;
const TOLERANCE_SECONDS = 300;

export type SnsFailure =
  | "malformed"
  | "unsupported_signature_version"
  | "cert_url_not_allowed"
  | "cert_unavailable"
  | "bad_signature"
  | "stale"
  | "topic_not_allowed";

export type SnsVerification =
  | { ok: true; type: "Notification"; messageId: string; topicArn: string; message: string; subject?: string; timestamp: string }
  | {
      ok: true;
      type: "SubscriptionConfirmation" | "UnsubscribeConfirmation";
      messageId: string;
      topicArn: string;
      /** `confirm` only for a configured topic ARN and a SubscribeURL on an allowed host; never fetched here. */
      action: "confirm" | "ignore";
      subscribeUrl: string;
      token: string;
      timestamp: string;
    }
  | { ok: false; reason: SnsFailure; detail?: string };

export interface SnsCertCache {
  get(url: string): Promise<ArrayBuffer> | undefined;
  set(url: string, spki: Promise<ArrayBuffer>): void;
  delete(url: string): void;
}

export interface SnsVerifyOptions {
  /** Topic ARNs this deployment subscribed; notifications from any other topic are refused. */
  topicArns: readonly string[];
  certHostPattern?: RegExp;
  /** Only for the local sandbox (http://127.0.0.1…); production is https only. */
  allowHttpCertUrl?: boolean;
  fetch?: typeof fetch;
  cache?: SnsCertCache;
  now?: () => number;
  toleranceSeconds?: number;
}

const NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
const CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];

/** A small bounded map; one per isolate by default, so a certificate is fetched once, not per request. */
export function createCertCache(maxEntries = 32, ttlMs = 3_600_000): SnsCertCache {
  const entries = new Map<string, { value: Promise<ArrayBuffer>; expires: number }>();
  return {
    get(url) {
      const e = entries.get(url);
      if (!e) return undefined;
      if (e.expires < Date.now()) {
        entries.delete(url);
        return undefined;
      }
      return e.value;
    },
    set(url, value) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(url, { value, expires: Date.now() + ttlMs });
    },
    delete(url) {
      entries.delete(url);
    },
  };
}

const defaultCache = createCertCache();

export function snsStringToSign(msg: Record<string, unknown>): string {
  const keys = msg.Type === "Notification" ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  let out = "";
  for (const k of keys) {
    const v = msg[k];
    if (v === undefined || v === null) continue;
    out += `${k}\n${String(v)}\n`;
  }
  return out;
}

export function isAllowedSnsUrl(raw: string, pattern: RegExp, allowHttp = false): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) return false;
  if (url.username || url.password) return false;
  return pattern.test(url.hostname);
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The certificate's SubjectPublicKeyInfo (DER), refusing certificates outside their validity period. */
export function spkiFromPem(pem: string, now = Date.now()): ArrayBuffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("no PEM certificate");
  const der = base64ToBytes(m[1]!.replace(/\s+/g, ""));
  const cert = AsnConvert.parse(der, Certificate);
  const { notBefore, notAfter } = cert.tbsCertificate.validity;
  if (notBefore.getTime().getTime() > now || notAfter.getTime().getTime() < now) throw new Error("certificate not valid now");
  return AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo);
}

async function fetchSpki(url: string, f: typeof fetch, now: number): Promise<ArrayBuffer> {
  const res = await f(url, { redirect: "manual" });
  if (!res.ok) throw new Error(`certificate fetch answered ${res.status}`);
  const text = await res.text();
  if (text.length > 16_384) throw new Error("certificate too large");
  return spkiFromPem(text, now);
}

export async function verifySnsMessage(rawBody: string, opts: SnsVerifyOptions): Promise<SnsVerification> {
  let msg: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { ok: false, reason: "malformed" };
    msg = parsed as Record<string, unknown>;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const type = msg.Type;
  const str = (k: string) => (typeof msg[k] === "string" ? (msg[k] as string) : undefined);
  const required = type === "Notification" ? ["Message", "MessageId", "Timestamp", "TopicArn"] : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn"];
  if (type !== "Notification" && type !== "SubscriptionConfirmation" && type !== "UnsubscribeConfirmation") {
    return { ok: false, reason: "malformed", detail: "unknown Type" };
  }
  for (const k of [...required, "Signature", "SigningCertURL", "SignatureVersion"]) {
    if (str(k) === undefined) return { ok: false, reason: "malformed", detail: `missing ${k}` };
  }
  if (msg.Subject !== undefined && typeof msg.Subject !== "string") return { ok: false, reason: "malformed" };
  const version = str("SignatureVersion");
  const hash = version === "1" ? "SHA-1" : version === "2" ? "SHA-256" : undefined;
  if (!hash) return { ok: false, reason: "unsupported_signature_version" };

  const pattern = opts.certHostPattern ?? DEFAULT_SNS_CERT_HOST;
  const certUrl = str("SigningCertURL")!;
  if (!isAllowedSnsUrl(certUrl, pattern, opts.allowHttpCertUrl) || !new URL(certUrl).pathname.endsWith(".pem")) {
    return { ok: false, reason: "cert_url_not_allowed" };
  }
  const now = opts.now?.() ?? Date.now();
  const cache = opts.cache ?? defaultCache;
  let spkiP = cache.get(certUrl);
  if (!spkiP) {
    spkiP = fetchSpki(certUrl, opts.fetch ?? fetch, now);
    cache.set(certUrl, spkiP);
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", await spkiP, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["verify"]);
  } catch (err) {
    cache.delete(certUrl); // a failed fetch is not remembered
    return { ok: false, reason: "cert_unavailable", detail: err instanceof Error ? err.message : String(err) };
  }
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = base64ToBytes(str("Signature")!);
  } catch {
    return { ok: false, reason: "bad_signature" };
  }
  const valid = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, new TextEncoder().encode(snsStringToSign(msg)));
  if (!valid) return { ok: false, reason: "bad_signature" };

  const ts = Date.parse(str("Timestamp")!);
  const tolerance = (opts.toleranceSeconds ?? TOLERANCE_SECONDS) * 1000;
  if (!Number.isFinite(ts) || Math.abs(now - ts) > tolerance) return { ok: false, reason: "stale" };

  const topicArn = str("TopicArn")!;
  const known = opts.topicArns.includes(topicArn);
  const base = { messageId: str("MessageId")!, topicArn, timestamp: str("Timestamp")! };
  if (type === "Notification") {
    if (!known) return { ok: false, reason: "topic_not_allowed" };
    return { ok: true, type, ...base, message: str("Message")!, ...(msg.Subject !== undefined ? { subject: str("Subject")! } : {}) };
  }
  const subscribeUrl = str("SubscribeURL")!;
  const action = known && isAllowedSnsUrl(subscribeUrl, pattern, opts.allowHttpCertUrl) ? "confirm" : "ignore";
  return { ok: true, type, ...base, action, subscribeUrl, token: str("Token")! };
}
