/**
 * What the edge's region failover talks to, emulated (DESIGN §9):
 *
 * - the Cloudflare API v4 DNS endpoints it uses — list records by name and type, get one, patch one — with
 *   Bearer tokens scoped to zones and Cloudflare's envelope `{ success, errors, messages, result }`: no token
 *   → 400 (9106), unknown token → 401 (10000), a token without that zone → 403 (10000), unknown record → 404
 *   (81044), an invalid ttl → 400 (9021). Tests create zones, tokens and records through
 *   `POST /_sandbox/cloudflare/zones` and read every applied PATCH at `GET /_sandbox/cloudflare/changes`;
 *   `POST /_sandbox/cloudflare/faults {zoneId, patchFailures}` makes the next PATCHes answer 500;
 * - two (or any number of) fake region health endpoints, `GET /_sandbox/regions/<name>/health`, that a test
 *   switches between healthy (200), unhealthy (503), timeout (no answer) and flapping (200 and 503 by turns,
 *   starting with 200) with
 *   `POST /_sandbox/regions/<name> {"mode": …}`;
 * - an alert sink, `POST /_sandbox/alerts/<channel>` (Slack/Discord webhook: JSON with `text` or
 *   `content`), read back with `GET /_sandbox/alerts/<channel>`.
 *
 * Names (zone ids, region names, channels) are chosen by each test, so parallel tests never share state.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { bearerToken, parseJson, problem } from "./http";
import type { Reply } from "./types";

interface DnsRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  proxiable: boolean;
  ttl: number;
  locked: boolean;
  created_on: string;
  modified_on: string;
}

export interface DnsChange {
  at: string;
  atMs: number;
  zoneId: string;
  recordId: string;
  name: string;
  from: string;
  to: string;
  proxied: boolean;
  ttl: number;
}

type RegionMode = "healthy" | "unhealthy" | "timeout" | "flapping";

const ZoneSetup = z.object({
  zoneId: z.string().min(1),
  zoneName: z.string().min(1).default("batchsender.test"),
  token: z.string().min(1),
  records: z.array(
    z.object({
      name: z.string().min(1),
      type: z.string().default("CNAME"),
      content: z.string().min(1),
      proxied: z.boolean().default(false),
      ttl: z.number().int().default(1),
    }),
  ),
});

const Patch = z.looseObject({
  content: z.string().min(1).optional(),
  proxied: z.boolean().optional(),
  ttl: z.number().int().optional(),
  name: z.string().optional(),
  type: z.string().optional(),
});

const ok = (result: unknown, extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  body: { success: true, errors: [], messages: [], result, ...extra },
});
const cfError = (status: number, code: number, message: string): Reply => ({
  status,
  body: { success: false, errors: [{ code, message }], messages: [], result: null },
});

export class CloudflareSandbox {
  private zones = new Map<string, Map<string, DnsRecord>>();
  /** token → zone ids it may edit (a zone-scoped API token). */
  private tokens = new Map<string, Set<string>>();
  private patchFailures = new Map<string, number>();
  private changes: DnsChange[] = [];
  private regions = new Map<string, { mode: RegionMode; probes: number; flap: boolean }>();
  private alerts = new Map<string, { receivedAt: string; receivedAtMs: number; body: unknown }[]>();

  reset(): void {
    this.zones.clear();
    this.tokens.clear();
    this.patchFailures.clear();
    this.changes = [];
    this.regions.clear();
    this.alerts.clear();
  }

  /** Undefined when the path is not one of this module's. `hold` = answer nothing (health timeout). */
  handle(method: string, url: URL, headers: IncomingHttpHeaders, body: Buffer): Reply | undefined {
    const path = url.pathname;
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (path.startsWith("/client/v4/zones/")) return this.api(method, parts.slice(3), url.searchParams, headers, body);
    if (parts[0] === "_sandbox" && parts[1] === "cloudflare") return this.control(method, parts[2], url.searchParams, body);
    if (parts[0] === "_sandbox" && parts[1] === "regions" && parts[2]) return this.region(method, parts[2], parts[3], body);
    if (parts[0] === "_sandbox" && parts[1] === "alerts" && parts[2] && parts.length === 3) return this.alert(method, parts[2], body);
    return undefined;
  }

  // --- Cloudflare API v4: /client/v4/zones/{zone_id}/dns_records[/{id}] ---

  private api(method: string, rest: string[], q: URLSearchParams, headers: IncomingHttpHeaders, body: Buffer): Reply {
    const [zoneId, collection, recordId, ...extra] = rest;
    if (!zoneId || collection !== "dns_records" || extra.length) return cfError(404, 7003, "Could not route to /zones, perhaps your object identifier is invalid?");
    if (!headers.authorization) return cfError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers");
    const token = bearerToken(headers.authorization);
    const scopes = token ? this.tokens.get(token) : undefined;
    if (!scopes) return cfError(401, 10000, "Authentication error");
    if (!scopes.has(zoneId)) return cfError(403, 10000, "Authentication error");
    const zone = this.zones.get(zoneId);
    if (!zone) return cfError(404, 7003, "Could not route to /zones, perhaps your object identifier is invalid?");

    if (!recordId) {
      if (method !== "GET") return cfError(405, 10000, `${method} method not allowed for the api_token authentication scheme`);
      const list = [...zone.values()].filter((r) => (!q.get("name") || r.name === q.get("name")) && (!q.get("type") || r.type === q.get("type")));
      const perPage = 100;
      return ok(list.slice(0, perPage), { result_info: { page: 1, per_page: perPage, count: Math.min(list.length, perPage), total_count: list.length, total_pages: Math.max(1, Math.ceil(list.length / perPage)) } });
    }
    const record = zone.get(recordId);
    if (!record) return cfError(404, 81044, "Record does not exist.");
    if (method === "GET") return ok(record);
    if (method !== "PATCH") return cfError(405, 10000, `${method} method not allowed for the api_token authentication scheme`);

    const failures = this.patchFailures.get(zoneId) ?? 0;
    if (failures > 0) {
      this.patchFailures.set(zoneId, failures - 1);
      return cfError(500, 10001, "Internal error");
    }
    const parsed = Patch.safeParse(parseJson(body));
    if (!parsed.success) return cfError(400, 9207, "Request body is invalid.");
    const p = parsed.data;
    if (p.ttl !== undefined && p.ttl !== 1 && (p.ttl < 60 || p.ttl > 86_400)) return cfError(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.");
    const proxied = p.proxied ?? record.proxied;
    const ttl = p.ttl ?? record.ttl;
    if (proxied && ttl !== 1) return cfError(400, 9021, "Invalid TTL. A proxied record must use 1 (Automatic).");
    const now = new Date();
    const from = record.content;
    Object.assign(record, { content: p.content ?? record.content, proxied, ttl, modified_on: now.toISOString() });
    this.changes.push({ at: now.toISOString(), atMs: now.getTime(), zoneId, recordId, name: record.name, from, to: record.content, proxied, ttl });
    return ok(record);
  }

  // --- test control ---

  private control(method: string, what: string | undefined, q: URLSearchParams, body: Buffer): Reply {
    if (what === "zones" && method === "POST") {
      const parsed = ZoneSetup.safeParse(parseJson(body));
      if (!parsed.success) return problem(422, "Validation failed", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      const z0 = parsed.data;
      const now = new Date().toISOString();
      const records = new Map<string, DnsRecord>();
      for (const r of z0.records) {
        const id = randomUUID().replaceAll("-", "");
        records.set(id, { id, zone_id: z0.zoneId, zone_name: z0.zoneName, ...r, proxiable: true, locked: false, created_on: now, modified_on: now });
      }
      this.zones.set(z0.zoneId, records);
      const scopes = this.tokens.get(z0.token) ?? new Set<string>();
      scopes.add(z0.zoneId);
      this.tokens.set(z0.token, scopes);
      return { status: 201, body: { zoneId: z0.zoneId, records: [...records.values()] } };
    }
    if (what === "changes" && method === "GET") {
      const zoneId = q.get("zoneId");
      return { status: 200, body: { data: this.changes.filter((c) => !zoneId || c.zoneId === zoneId) } };
    }
    if (what === "faults" && method === "POST") {
      const parsed = z.object({ zoneId: z.string(), patchFailures: z.number().int().min(0) }).safeParse(parseJson(body));
      if (!parsed.success) return problem(422, "Validation failed", "expected {zoneId, patchFailures}");
      this.patchFailures.set(parsed.data.zoneId, parsed.data.patchFailures);
      return { status: 204 };
    }
    return problem(404, "Not found", `no sandbox route for ${method} /_sandbox/cloudflare/${what ?? ""}`);
  }

  private region(method: string, name: string, sub: string | undefined, body: Buffer): Reply {
    const r = this.regions.get(name) ?? { mode: "healthy" as RegionMode, probes: 0, flap: false };
    this.regions.set(name, r);
    if (sub === "health" && method === "GET") {
      r.probes++;
      if (r.mode === "timeout") return { status: 0, hold: true };
      // flapping: healthy and unhealthy probes alternate, starting healthy after the switch.
      if (r.mode === "flapping") r.flap = !r.flap;
      const healthy = r.mode === "healthy" || (r.mode === "flapping" && r.flap);
      return healthy ? { status: 200, body: { status: "ready", region: name } } : { status: 503, body: { status: "not_ready", region: name } };
    }
    if (sub === undefined && method === "GET") return { status: 200, body: { region: name, ...r } };
    if (sub === undefined && method === "POST") {
      const parsed = z.object({ mode: z.enum(["healthy", "unhealthy", "timeout", "flapping"]) }).safeParse(parseJson(body));
      if (!parsed.success) return problem(422, "Validation failed", 'expected {"mode": "healthy" | "unhealthy" | "timeout"}');
      r.mode = parsed.data.mode;
      r.flap = false;
      return { status: 200, body: { region: name, ...r } };
    }
    return problem(404, "Not found", `no sandbox route for ${method} /_sandbox/regions/${name}${sub ? `/${sub}` : ""}`);
  }

  private alert(method: string, channel: string, body: Buffer): Reply {
    const list = this.alerts.get(channel) ?? [];
    this.alerts.set(channel, list);
    if (method === "GET") return { status: 200, body: { data: list } };
    if (method !== "POST") return problem(405, "Method not allowed", `${method} is not allowed on /_sandbox/alerts/${channel}`);
    const json = parseJson(body) as { text?: unknown; content?: unknown } | undefined;
    // Slack answers 400 "invalid_payload", Discord 400 "Cannot send an empty message".
    if (!json || (typeof json.text !== "string" && typeof json.content !== "string")) return { status: 400, headers: { "content-type": "text/plain" }, body: "invalid_payload" };
    const now = new Date();
    list.push({ receivedAt: now.toISOString(), receivedAtMs: now.getTime(), body: json });
    return { status: 200, headers: { "content-type": "text/plain" }, body: "ok" };
  }
}
