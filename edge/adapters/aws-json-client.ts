/**
 * SigV4-signed calls to an AWS REST-JSON API from workerd: `@smithy/signature-v4` (the AWS SDK's own signer,
 * pinned) over a WebCrypto SHA-256, then `fetch`. The edge has no node:crypto (no nodejs_compat), so the hash
 * is the one piece written here; nothing computes a signature by hand.
 */
import { SignatureV4 } from "@smithy/signature-v4";

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (d: SourceData): Uint8Array =>
  typeof d === "string" ? new TextEncoder().encode(d) : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);

/** The signer's `Checksum` over WebCrypto: SHA-256, or HMAC-SHA256 when given a secret. */
class WebCryptoSha256 {
  private chunks: Uint8Array[] = [];
  constructor(private readonly secret?: SourceData) {}
  update(data: SourceData): void {
    this.chunks.push(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const data = new Uint8Array(total);
    let at = 0;
    for (const c of this.chunks) {
      data.set(c, at);
      at += c.length;
    }
    if (this.secret === undefined) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const key = await crypto.subtle.importKey("raw", bytes(this.secret) as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  }
  reset(): void {
    this.chunks = [];
  }
}

export interface AwsJsonClientOptions {
  /** e.g. `https://email.eu-central-1.amazonaws.com`. */
  endpoint: string;
  region: string;
  service: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  timeoutMs?: number;
}

export interface AwsJsonResponse {
  status: number;
  /** `x-amzn-errortype` without its `:namespace` suffix (AlreadyExistsException…), when the call failed. */
  errorType?: string;
  json: Record<string, unknown>;
}

export interface AwsJsonClient {
  call(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<AwsJsonResponse>;
}

export function awsJsonClient(opts: AwsJsonClientOptions): AwsJsonClient {
  const url = new URL(opts.endpoint);
  const signer = new SignatureV4({ credentials: opts.credentials, region: opts.region, service: opts.service, sha256: WebCryptoSha256 });
  return {
    async call(method, path, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path,
        query: {},
        headers: { host: url.host, ...(payload === undefined ? {} : { "content-type": "application/json" }) },
        body: payload,
      });
      // fetch sets Host from the URL (the same value that was signed); workerd does not let it be passed.
      const headers = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== "host"));
      const res = await fetch(new URL(path, url), {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        const parsed: unknown = text ? JSON.parse(text) : {};
        if (parsed && typeof parsed === "object") json = parsed as Record<string, unknown>;
      } catch {
        // AWS front ends answer HTML on some gateway errors: keep the status, drop the body.
      }
      const errorType = res.headers.get("x-amzn-errortype")?.split(":")[0] ?? (res.ok ? undefined : String(json.__type ?? ""));
      return { status: res.status, errorType: errorType || undefined, json };
    },
  };
}
