/**
 * Verifies AWS Signature Version 4 on incoming SES requests by re-signing them with `@smithy/signature-v4`
 * (the SDK's own signer) and the secret of the access key named in the credential scope, then comparing in
 * constant time. Failures carry the error type and message AWS's REST-JSON front end answers with.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { SesKey } from "./types";

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(d: SourceData): Buffer {
  if (typeof d === "string") return Buffer.from(d, "utf8");
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(new Uint8Array(d));
}

/** node:crypto behind the `Checksum` interface the signer expects (plain hash, or HMAC when given a key). */
class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.make();
  }
  private make() {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(this.secret));
  }
  update(data: SourceData): void {
    this.h.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.make();
  }
}

export interface SignedRequest {
  method: string;
  host: string;
  /** Path as received (still percent-encoded) and the parsed query. */
  path: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type SigV4Result = { ok: true; accessKeyId: string } | { ok: false; status: number; type: string; message: string };

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;
const MAX_SKEW_MS = 5 * 60 * 1000;

/** One signer per secret: the signer caches derived signing keys per day/region. */
const signers = new Map<string, SignatureV4>();
function signerFor(key: SesKey, service: string): SignatureV4 {
  const id = `${key.accessKeyId}\n${key.secretAccessKey}\n${service}`;
  let s = signers.get(id);
  if (!s) {
    s = new SignatureV4({
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      region: key.region ?? "us-east-1",
      service,
      sha256: NodeSha256,
      // Verify exactly the headers the client signed; never add x-amz-content-sha256 ourselves.
      applyChecksum: false,
    });
    signers.set(id, s);
  }
  return s;
}

/** `20240101T000000Z` → Date, or undefined. */
function parseAmzDate(v: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const amz = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

const fail = (type: string, message: string, status = 403): SigV4Result => ({ ok: false, status, type, message });

export async function verifySigV4(
  req: SignedRequest,
  lookup: (accessKeyId: string) => SesKey | undefined,
  service: string,
  now = Date.now(),
): Promise<SigV4Result> {
  const auth = req.headers.authorization;
  if (!auth) return fail("MissingAuthenticationTokenException", "Missing Authentication Token");
  const m = AUTH_RE.exec(auth);
  if (!m) return fail("IncompleteSignatureException", `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth.slice(0, 200)}`);
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = m as unknown as string[];
  const dateHeader = req.headers["x-amz-date"];
  const signingDate = typeof dateHeader === "string" ? parseAmzDate(dateHeader) : undefined;
  if (!signingDate) return fail("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");

  const key = lookup(accessKeyId!);
  if (!key) return fail("UnrecognizedClientException", "The security token included in the request is invalid.");

  if (signingDate.getTime() < now - MAX_SKEW_MS) {
    return fail("InvalidSignatureException", `Signature expired: ${amz(signingDate)} is now earlier than ${amz(new Date(now - MAX_SKEW_MS))} (${amz(new Date(now))} - 5 min.)`);
  }
  if (signingDate.getTime() > now + MAX_SKEW_MS) {
    return fail("InvalidSignatureException", `Signature not yet current: ${amz(signingDate)} is still later than ${amz(new Date(now + MAX_SKEW_MS))} (${amz(new Date(now))} + 5 min.)`);
  }
  if (scopeService !== service) return fail("SignatureDoesNotMatch", `Credential should be scoped to correct service: '${service}'. `);
  if (key.region !== undefined && scopeRegion !== key.region) {
    return fail("SignatureDoesNotMatch", `Credential should be scoped to a valid region, not '${scopeRegion}'. `);
  }
  if (scopeDate !== amz(signingDate).slice(0, 8)) {
    return fail("SignatureDoesNotMatch", `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amz(signingDate).slice(0, 8)}', from '${amz(signingDate)}'.`);
  }

  const signed = signedHeaderList!.split(";");
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const v = req.headers[name];
    if (v === undefined) return fail("SignatureDoesNotMatch", SIGNATURE_MISMATCH);
    headers[name] = Array.isArray(v) ? v.join(",") : v;
  }
  // The signer trusts a signed x-amz-content-sha256 as the payload hash; AWS hashes the body it received, so
  // a body altered after signing (or UNSIGNED-PAYLOAD, which only S3 accepts) must not verify.
  if (headers["x-amz-content-sha256"] !== undefined) headers["x-amz-content-sha256"] = createHash("sha256").update(req.body).digest("hex");
  const [hostname, port] = req.host.split(":");
  const resigned = await signerFor(key, service).sign(
    { method: req.method, protocol: "http:", hostname: hostname ?? "", port: port ? Number(port) : undefined, path: req.path, query: req.query, headers, body: req.body },
    { signingDate, signingRegion: scopeRegion, signingService: scopeService, signableHeaders: new Set(signed) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(resigned.headers.authorization ?? "")?.[1] ?? "";
  const ok = expected.length === 64 && timingSafeEqual(Buffer.from(expected), Buffer.from(signature!));
  return ok ? { ok: true, accessKeyId: accessKeyId! } : fail("SignatureDoesNotMatch", SIGNATURE_MISMATCH);
}

const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
