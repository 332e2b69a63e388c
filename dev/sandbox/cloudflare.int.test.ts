// The sandbox's Cloudflare DNS API (v4 envelopes, zone-scoped tokens), driven by the edge's own DNS adapter
// (edge/adapters/cloudflare-dns.ts) and by plain fetch for the error shapes; the fake region health
// endpoints and the alert sink.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cloudflareDns, CloudflareApiError } from "../../edge/adapters/cloudflare-dns";
import { startSandbox, type Sandbox } from "./server";

let sandbox: Sandbox;
let recordId = "";
const api = () => `${sandbox.url}/client/v4`;
const target = { name: "nats.batchsender.test", type: "CNAME" as const, content: "iad.nats.batchsender.test", proxied: false, ttl: 60 };

async function json(path: string, init: RequestInit = {}) {
  const res = await fetch(`${sandbox.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as { success?: boolean; errors?: { code: number; message: string }[]; result?: unknown } };
}

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => sandbox.close());
beforeEach(async () => {
  sandbox.reset();
  const setup = async (zoneId: string, token: string) =>
    (await fetch(`${sandbox.url}/_sandbox/cloudflare/zones`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        zoneId,
        token,
        records: [
          { name: "nats.batchsender.test", type: "CNAME", content: "fsn.nats.batchsender.test", ttl: 60 },
          { name: "nats.batchsender.test", type: "TXT", content: "owner=ops", ttl: 300 },
          { name: "other.batchsender.test", type: "CNAME", content: "fsn.nats.batchsender.test", ttl: 1, proxied: true },
        ],
      }),
    }).then((r) => r.json())) as { records: { id: string }[] };
  recordId = (await setup("zone-a", "token-a")).records[0]!.id;
  await setup("zone-b", "token-b");
});

describe("Cloudflare DNS API", () => {
  it("the adapter finds the record by name and type, patches it, reads it back; a second call changes nothing", async () => {
    const dns = cloudflareDns({ apiBase: api(), zoneId: "zone-a", token: "token-a" });
    expect(await dns.pointAt(target)).toEqual({ id: recordId, content: target.content, changed: true });
    expect(await dns.pointAt(target)).toEqual({ id: recordId, content: target.content, changed: false });
    const changes = (await json("/_sandbox/cloudflare/changes?zoneId=zone-a")).body as unknown as { data: { recordId: string; from: string; to: string }[] };
    expect(changes.data.map((c) => [c.recordId, c.from, c.to])).toEqual([[recordId, "fsn.nats.batchsender.test", target.content]]);
    const list = await json(`/client/v4/zones/zone-a/dns_records?name=other.batchsender.test&type=CNAME`, { headers: { authorization: "Bearer token-a" } });
    expect(list.body).toMatchObject({ success: true, errors: [], messages: [], result: [{ content: "fsn.nats.batchsender.test", proxied: true, ttl: 1 }] });
  });

  it("answers Cloudflare's auth envelopes: no token 400, unknown 401, another zone's token 403", async () => {
    const path = `/client/v4/zones/zone-a/dns_records/${recordId}`;
    expect(await json(path)).toMatchObject({ status: 400, body: { success: false, errors: [{ code: 9106 }], result: null } });
    expect(await json(path, { headers: { authorization: "Bearer nope" } })).toMatchObject({ status: 401, body: { success: false, errors: [{ code: 10000 }] } });
    expect(await json(path, { headers: { authorization: "Bearer token-b" } })).toMatchObject({ status: 403, body: { success: false, errors: [{ code: 10000 }] } });
    const dns = cloudflareDns({ apiBase: api(), zoneId: "zone-a", token: "token-b" });
    await expect(dns.pointAt(target)).rejects.toThrow(/HTTP 403: 10000 Authentication error/);
  });

  it("refuses a missing record, an invalid ttl and a proxied record with a fixed ttl; a PATCH fault is a 500 envelope", async () => {
    const dns = cloudflareDns({ apiBase: api(), zoneId: "zone-a", token: "token-a" });
    await expect(dns.pointAt({ ...target, name: "missing.batchsender.test" })).rejects.toBeInstanceOf(CloudflareApiError);
    await expect(dns.pointAt({ ...target, ttl: 30 })).rejects.toThrow(/9021/);
    await expect(dns.pointAt({ ...target, proxied: true, ttl: 60 })).rejects.toThrow(/9021/);
    const unknown = await json(`/client/v4/zones/zone-a/dns_records/ffff`, { headers: { authorization: "Bearer token-a" } });
    expect(unknown).toMatchObject({ status: 404, body: { errors: [{ code: 81044 }] } });
    await fetch(`${sandbox.url}/_sandbox/cloudflare/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ zoneId: "zone-a", patchFailures: 1 }) });
    await expect(dns.pointAt(target)).rejects.toThrow(/HTTP 500/);
    expect((await dns.pointAt(target)).changed).toBe(true);
  });
});

describe("fake regions and alert sink", () => {
  it("a region's health follows its mode; flapping alternates starting healthy", async () => {
    const probe = async () => (await fetch(`${sandbox.url}/_sandbox/regions/fsn/health`)).status;
    expect(await probe()).toBe(200);
    await fetch(`${sandbox.url}/_sandbox/regions/fsn`, { method: "POST", body: JSON.stringify({ mode: "unhealthy" }) });
    expect(await probe()).toBe(503);
    await fetch(`${sandbox.url}/_sandbox/regions/fsn`, { method: "POST", body: JSON.stringify({ mode: "flapping" }) });
    expect([await probe(), await probe(), await probe(), await probe()]).toEqual([200, 503, 200, 503]);
    await fetch(`${sandbox.url}/_sandbox/regions/fsn`, { method: "POST", body: JSON.stringify({ mode: "timeout" }) });
    await expect(fetch(`${sandbox.url}/_sandbox/regions/fsn/health`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    const bad = await fetch(`${sandbox.url}/_sandbox/regions/fsn`, { method: "POST", body: JSON.stringify({ mode: "sleepy" }) });
    expect(bad.status).toBe(422);
  });

  it("records Slack/Discord payloads and refuses empty ones like Slack does", async () => {
    const post = (body: unknown) => fetch(`${sandbox.url}/_sandbox/alerts/ops`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post({ text: "hi", content: "hi" })).status).toBe(200);
    expect((await post({ attachments: [] })).status).toBe(400);
    const seen = (await (await fetch(`${sandbox.url}/_sandbox/alerts/ops`)).json()) as { data: { body: unknown }[] };
    expect(seen.data.map((a) => a.body)).toEqual([{ text: "hi", content: "hi" }]);
  });
});
