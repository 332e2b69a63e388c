/**
 * The one DNS record the failover switches, through the Cloudflare API v4 (`{ success, errors, messages,
 * result }` envelopes) with a Bearer token scoped to that zone (DNS:Edit): find the record by name and type,
 * PATCH its content keeping `proxied` and `ttl` as configured, then GET it back and compare — a 200 to the
 * PATCH alone is not taken as proof.
 */
import { z } from "zod";

export interface DnsTarget {
  name: string;
  type: "CNAME" | "A" | "AAAA";
  content: string;
  proxied: boolean;
  ttl: number;
}

export interface DnsSwitcher {
  /** Points the record at `target.content`; resolves with the verified record, rejects with a readable reason. */
  pointAt(target: DnsTarget): Promise<{ id: string; content: string; changed: boolean }>;
}

export class CloudflareApiError extends Error {
  override name = "CloudflareApiError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const DnsRecord = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  content: z.string(),
  proxied: z.boolean().optional(),
  ttl: z.number(),
});
type DnsRecord = z.infer<typeof DnsRecord>;

const Envelope = z.looseObject({
  success: z.boolean(),
  errors: z.array(z.looseObject({ code: z.number().optional(), message: z.string() })).default([]),
  messages: z.array(z.unknown()).default([]),
  result: z.unknown(),
});

export function cloudflareDns(opts: { apiBase: string; zoneId: string; token: string; timeoutMs?: number }): DnsSwitcher {
  const base = `${opts.apiBase.replace(/\/$/, "")}/zones/${encodeURIComponent(opts.zoneId)}/dns_records`;

  async function call<T extends z.ZodType>(method: string, url: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${opts.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CloudflareApiError(`${method} dns_records: HTTP ${res.status}, not JSON`, res.status);
    }
    const env = Envelope.safeParse(json);
    if (!env.success) throw new CloudflareApiError(`${method} dns_records: HTTP ${res.status}, not a v4 envelope`, res.status);
    if (!res.ok || !env.data.success) {
      const errs = env.data.errors.map((e) => `${e.code ?? "?"} ${e.message}`).join("; ") || "no error detail";
      throw new CloudflareApiError(`${method} dns_records: HTTP ${res.status}: ${errs}`, res.status);
    }
    const result = schema.safeParse(env.data.result);
    if (!result.success) throw new CloudflareApiError(`${method} dns_records: unexpected result shape`, res.status);
    return result.data;
  }

  return {
    async pointAt(target) {
      const q = new URLSearchParams({ name: target.name, type: target.type });
      const found = await call("GET", `${base}?${q}`, z.array(DnsRecord));
      if (found.length !== 1) throw new CloudflareApiError(`expected one ${target.type} record named ${target.name}, found ${found.length}`, 404);
      const record: DnsRecord = found[0]!;
      const same = record.content === target.content && (record.proxied ?? false) === target.proxied && record.ttl === target.ttl;
      if (!same) {
        await call("PATCH", `${base}/${encodeURIComponent(record.id)}`, DnsRecord, {
          content: target.content,
          proxied: target.proxied,
          ttl: target.ttl,
        });
      }
      const check = await call("GET", `${base}/${encodeURIComponent(record.id)}`, DnsRecord);
      if (check.content !== target.content || (check.proxied ?? false) !== target.proxied || check.ttl !== target.ttl) {
        throw new CloudflareApiError(`record ${target.name} reads back ${check.content} (proxied ${check.proxied}, ttl ${check.ttl}) after the change`, 200);
      }
      return { id: record.id, content: check.content, changed: !same };
    },
  };
}
