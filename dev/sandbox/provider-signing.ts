/**
 * How the three providers sign their webhooks, from the sender's side, for the sandbox's emitters
 * (dev/sandbox/events.ts) and the edge's verifier tests (which run in workerd, so this file is edge-safe:
 * WebCrypto and @peculiar/asn1-x509 only, no node:*). shared/PROVIDERS.md §1, §2, §4.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, Certificate, Name, RelativeDistinguishedName, SubjectPublicKeyInfo, TBSCertificate, Validity, Version } from "@peculiar/asn1-x509";
import { Webhook } from "standardwebhooks";
import { snsStringToSign } from "../../edge/routes/provider-webhooks/verify-sns";

const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
const COMMON_NAME = "2.5.4.3";
const DER_NULL = new Uint8Array([5, 0]).buffer;

export function bytesToBase64(bytes: Uint8Array | ArrayBuffer): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = "";
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

function toPem(der: ArrayBuffer): string {
  const b64 = bytesToBase64(der);
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END CERTIFICATE-----\n`;
}

export interface SnsSigner {
  certPem: string;
  /** SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA) need the same RSA key imported per hash. */
  keys: { sha1: CryptoKey; sha256: CryptoKey };
}

/** An RSA-2048 key and a self-signed certificate for it, like the one SNS serves at SigningCertURL. */
export async function createSnsSigner(opts: { commonName?: string; notBefore?: Date; notAfter?: Date } = {}): Promise<SnsSigner> {
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  const pair = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
  const pkcs8 = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
  const name = new Name([
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type: COMMON_NAME, value: new AttributeValue({ utf8String: opts.commonName ?? "sns.sandbox.amazonaws.com" }) }),
    ]),
  ]);
  const now = Date.now();
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = serial[0]! & 0x7f; // positive INTEGER
  const sigAlg = new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: DER_NULL });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial.buffer,
    signature: sigAlg,
    issuer: name,
    validity: new Validity({ notBefore: opts.notBefore ?? new Date(now - 3600_000), notAfter: opts.notAfter ?? new Date(now + 365 * 86400_000) }),
    subject: name,
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const signatureValue = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, tbsDer);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue });
  const importAs = (hash: string) => crypto.subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["sign"]);
  return { certPem: toPem(AsnConvert.serialize(cert)), keys: { sha1: await importAs("SHA-1"), sha256: await importAs("SHA-256") } };
}

/** Adds SignatureVersion, SigningCertURL and Signature to an SNS message, as SNS does. */
export async function signSnsMessage(
  signer: SnsSigner,
  msg: Record<string, string>,
  opts: { certUrl: string; version?: "1" | "2" },
): Promise<Record<string, string>> {
  const version = opts.version ?? "1";
  const key = version === "1" ? signer.keys.sha1 : signer.keys.sha256;
  const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(snsStringToSign(msg)));
  return { ...msg, SignatureVersion: version, Signature: bytesToBase64(sig), SigningCertURL: opts.certUrl };
}

/** `svix-id`, `svix-timestamp`, `svix-signature` for a body, with the `whsec_` secret (Resend's scheme). */
export function svixHeaders(secret: string, id: string, body: string, timestampSeconds: number): Record<string, string> {
  const signature = new Webhook(secret).sign(id, new Date(timestampSeconds * 1000), body);
  return { "svix-id": id, "svix-timestamp": String(timestampSeconds), "svix-signature": signature };
}

/** A `whsec_` secret of 24 random bytes, as Svix issues them. */
export function newSvixSecret(): string {
  return `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

export interface TelnyxSigner {
  /** Base64 of the 32 raw public key bytes, as the Telnyx portal shows it. */
  publicKeyBase64: string;
  privateKey: CryptoKey;
}

export async function createTelnyxSigner(): Promise<TelnyxSigner> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer;
  return { publicKeyBase64: bytesToBase64(raw), privateKey: pair.privateKey };
}

/** A signer from a fixed PKCS#8 key (base64), e.g. the local stack's (dev/config.ts sandboxWebhookKeys). */
export async function telnyxSignerFromPkcs8(pkcs8Base64: string, publicKeyBase64: string): Promise<TelnyxSigner> {
  const der = Uint8Array.from(atob(pkcs8Base64), (ch) => ch.charCodeAt(0));
  const privateKey = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
  return { publicKeyBase64, privateKey };
}

export async function telnyxHeaders(signer: TelnyxSigner, body: string, timestampSeconds: number): Promise<Record<string, string>> {
  const sig = await crypto.subtle.sign("Ed25519", signer.privateKey, new TextEncoder().encode(`${timestampSeconds}|${body}`));
  return { "telnyx-signature-ed25519": bytesToBase64(sig), "telnyx-timestamp": String(timestampSeconds) };
}
