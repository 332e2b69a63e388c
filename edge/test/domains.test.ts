// Issue 8, sending domains: /v1/domains against the provider sandbox's SES v2 identity API and Resend's
// domains API, the cross-tenant claim rule, and the managed-mode `from` rule at batch creation and at send.
import { describe, expect, it } from "vitest";
import { addApiKey, call, emailBatch, newTenant, query, testEnv } from "./harness";

const sandbox = testEnv.TEST_SANDBOX_URL as string;
const uniqueDomain = (label = "d") => `${label}-${crypto.randomUUID().slice(0, 8)}.example.com`;

async function setVerification(identity: string, status: "SUCCESS" | "FAILED" | "PENDING") {
  const res = await fetch(`${sandbox}/_sandbox/identities/verify`, { method: "POST", body: JSON.stringify({ identity, status }) });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function sandboxIdentities(): Promise<{ ses: { identity: string }[]; resend: { name: string }[] }> {
  return (await fetch(`${sandbox}/_sandbox/identities`)).json();
}



describe("POST /v1/domains", () => {
  it("creates the SES identity and lists the records to publish: three DKIM CNAMEs, MAIL FROM MX + SPF, DMARC", async () => {
    const t = await newTenant();
    const domain = uniqueDomain();
    const res = await call("POST", "/v1/domains", { apiKey: t.apiKey, body: { domain: domain.toUpperCase() } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ domain, provider: "ses", status: "pending", mode: "live", mailFromDomain: `bounce.${domain}` });
    const dkim = res.body.records.filter((r: { purpose: string }) => r.purpose === "dkim");
    expect(dkim).toHaveLength(3);
    for (const r of dkim) {
      const token = r.name.split(".")[0];
      expect(r).toEqual({ purpose: "dkim", type: "CNAME", name: `${token}._domainkey.${domain}`, value: `${token}.dkim.amazonses.com`, required: true });
    }
    expect(res.body.records).toContainEqual({ purpose: "mail_from_mx", type: "MX", name: `bounce.${domain}`, value: "feedback-smtp.eu-central-1.amazonses.com", priority: 10, required: true });
    expect(res.body.records).toContainEqual({ purpose: "mail_from_spf", type: "TXT", name: `bounce.${domain}`, value: "v=spf1 include:amazonses.com ~all", required: true });
    expect(res.body.records).toContainEqual(expect.objectContaining({ purpose: "dmarc", type: "TXT", name: `_dmarc.${domain}`, required: false }));
    expect((await sandboxIdentities()).ses.map((i) => i.identity)).toContain(domain);
  });

  it("creates a Resend domain with Resend's records", async () => {
    const t = await newTenant();
    const domain = uniqueDomain("rs");
    const res = await call("POST", "/v1/domains", { apiKey: t.apiKey, body: { domain, provider: "resend" } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ provider: "resend", status: "pending", mailFromDomain: `send.${domain}` });
    expect(res.body.records.filter((r: { purpose: string; type: string }) => r.purpose === "dkim" && r.type === "CNAME")).toHaveLength(3);
    expect(res.body.records).toContainEqual({ purpose: "mail_from_mx", type: "MX", name: `send.${domain}`, value: "feedback-smtp.us-east-1.amazonses.com", priority: 10, required: true });
    await setVerification(domain, "SUCCESS");
    const v = await call("POST", `/v1/domains/${res.body.id}/verify`, { apiKey: t.apiKey });
    expect([v.status, v.body.status]).toEqual([200, "verified"]);
  });

  it.each([
    [{ domain: "not a domain" }, "domain"],
    [{ domain: "https://example.com/x" }, "domain"],
    [{ domain: "example.com." }, "domain"],
    [{ domain: "localhost" }, "domain"],
    [{}, "domain"],
    [{ domain: "ok.example.com", provider: "telnyx" }, "provider"],
    [{ domain: "ok.example.com", extra: 1 }, ""],
  ])("422s %j naming the field", async (body, path) => {
    const t = await newTenant();
    const res = await call("POST", "/v1/domains", { apiKey: t.apiKey, body });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it("400s malformed JSON and 415s a non-JSON body", async () => {
    const t = await newTenant();
    expect((await call("POST", "/v1/domains", { apiKey: t.apiKey, body: "{" })).status).toBe(400);
    expect((await call("POST", "/v1/domains", { apiKey: t.apiKey, body: "domain=x", headers: { "content-type": "text/plain" } })).status).toBe(415);
  });

  it("409s a domain another tenant holds (verified or not), and the same tenant adding it twice", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const domain = uniqueDomain("claim");
    const added = await call("POST", "/v1/domains", { apiKey: a.apiKey, body: { domain } });
    expect((await call("POST", "/v1/domains", { apiKey: b.apiKey, body: { domain } })).status).toBe(409);
    await setVerification(domain, "SUCCESS");
    expect((await call("POST", `/v1/domains/${added.body.id}/verify`, { apiKey: a.apiKey })).body.status).toBe("verified");
    const stolen = await call("POST", "/v1/domains", { apiKey: b.apiKey, body: { domain, provider: "resend" } });
    expect(stolen.status).toBe(409);
    expect(stolen.body.detail).toContain("another account");
    expect((await call("POST", "/v1/domains", { apiKey: a.apiKey, body: { domain } })).status).toBe(409);
    const [{ n }] = (await query<{ n: number }>("select count(*)::int as n from sending_domains where domain = $1", [domain])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("two tenants racing for one domain: exactly one wins", async () => {
    const [a, b] = await Promise.all([newTenant(), newTenant()]);
    const domain = uniqueDomain("race");
    const statuses = (await Promise.all([a, b].map((t) => call("POST", "/v1/domains", { apiKey: t.apiKey, body: { domain } })))).map((r) => r.status);
    expect(statuses.sort()).toEqual([201, 409]);
  });
});

describe("GET, verify and DELETE /v1/domains/{id}", () => {
  it("verify follows the provider: pending → verified → failed", async () => {
    const t = await newTenant();
    const domain = uniqueDomain("v");
    const { body } = await call("POST", "/v1/domains", { apiKey: t.apiKey, body: { domain } });
    expect((await call("POST", `/v1/domains/${body.id}/verify`, { apiKey: t.apiKey })).body.status).toBe("pending");
    await setVerification(domain, "SUCCESS");
    const ok = await call("POST", `/v1/domains/${body.id}/verify`, { apiKey: t.apiKey });
    expect(ok.body).toMatchObject({ status: "verified", verifiedAt: expect.any(String), lastCheckedAt: expect.any(String) });
    await setVerification(domain, "FAILED");
    expect((await call("POST", `/v1/domains/${body.id}/verify`, { apiKey: t.apiKey })).body).toMatchObject({ status: "failed", verifiedAt: null });
    expect((await call("GET", `/v1/domains/${body.id}`, { apiKey: t.apiKey })).body.status).toBe("failed");
  });

  it("lists with a cursor, deletes (removing the SES identity), then 404s", async () => {
    const t = await newTenant();
    const ids: string[] = [];
    for (const d of [uniqueDomain("l1"), uniqueDomain("l2"), uniqueDomain("l3")]) ids.push((await call("POST", "/v1/domains", { apiKey: t.apiKey, body: { domain: d } })).body.id);
    const page1 = await call("GET", "/v1/domains?limit=2", { apiKey: t.apiKey });
    // The fixture's verified test domain is listed too.
    expect(page1.body).toMatchObject({ hasMore: true });
    const page2 = await call("GET", `/v1/domains?limit=100&starting_after=${page1.body.nextCursor}`, { apiKey: t.apiKey });
    const all = [...page1.body.data, ...page2.body.data].map((d: { id: string }) => d.id);
    for (const id of ids) expect(all).toContain(id);
    expect(new Set(all).size).toBe(all.length);

    const victim = (await call("GET", `/v1/domains/${ids[0]}`, { apiKey: t.apiKey })).body;
    expect((await call("DELETE", `/v1/domains/${ids[0]}`, { apiKey: t.apiKey })).status).toBe(204);
    expect((await call("GET", `/v1/domains/${ids[0]}`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await sandboxIdentities()).ses.map((i) => i.identity)).not.toContain(victim.domain);
    expect((await call("DELETE", `/v1/domains/${ids[0]}`, { apiKey: t.apiKey })).status).toBe(404);
  });

  it("another tenant's domain, the other mode's and malformed ids are 404 on every route", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const testKey = await addApiKey(a.tenantId, "test");
    const { body } = await call("POST", "/v1/domains", { apiKey: a.apiKey, body: { domain: uniqueDomain("iso") } });
    for (const key of [b.apiKey, testKey]) {
      expect((await call("GET", `/v1/domains/${body.id}`, { apiKey: key })).status).toBe(404);
      expect((await call("POST", `/v1/domains/${body.id}/verify`, { apiKey: key })).status).toBe(404);
      expect((await call("DELETE", `/v1/domains/${body.id}`, { apiKey: key })).status).toBe(404);
      const list = await call("GET", "/v1/domains", { apiKey: key });
      expect(list.body.data.map((d: { id: string }) => d.id)).not.toContain(body.id);
    }
    for (const bad of ["nope", "00000000-0000-0000-0000-00000000000g"]) expect((await call("GET", `/v1/domains/${bad}`, { apiKey: a.apiKey })).status).toBe(404);
    expect((await call("PUT", `/v1/domains/${body.id}`, { apiKey: a.apiKey })).status).toBe(405);
    expect((await call("GET", "/v1/domains", {})).status).toBe(401);
  });

  it("a test key's domains are test-mode and invisible to the live key", async () => {
    const t = await newTenant({ mode: "test" });
    const liveKey = await addApiKey(t.tenantId, "live");
    const { body } = await call("POST", "/v1/domains", { apiKey: t.apiKey, body: { domain: uniqueDomain("tm") } });
    expect(body.mode).toBe("test");
    expect((await call("GET", `/v1/domains/${body.id}`, { apiKey: liveKey })).status).toBe(404);
  });
});

describe("managed batches send only from the tenant's verified domains", () => {
  it("422 from an unverified domain; accepted once the sandbox verifies it; refused at send after it fails", async () => {
    const t = await newTenant();
    const domain = uniqueDomain("news");
    const batch = () => call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ message: { from: `News <news@${domain}>`, subject: "Hi", text: "Hi {{ name }}" } }) });

    let res = await batch();
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: "message.from", message: expect.stringContaining(`${domain} is not a verified sending domain`) }]);

    const { body: d } = await call("POST", "/v1/domains", { apiKey: t.apiKey, body: { domain } });
    expect((await batch()).status).toBe(422); // pending is not verified
    await setVerification(domain, "SUCCESS");
    await call("POST", `/v1/domains/${d.id}/verify`, { apiKey: t.apiKey });
    res = await batch();
    expect(res.status, JSON.stringify(res.body)).toBe(201);

    // The domain loses verification before the draft is sent: the send is refused, the batch stays a draft.
    await setVerification(domain, "FAILED");
    await call("POST", `/v1/domains/${d.id}/verify`, { apiKey: t.apiKey });
    const send = await call("POST", `/v1/batches/${res.body.id}/send`, { apiKey: t.apiKey });
    expect(send.status).toBe(422);
    expect(send.body.errors[0].path).toBe("message.from");
    expect((await call("GET", `/v1/batches/${res.body.id}`, { apiKey: t.apiKey })).body.status).toBe("draft");
  });

  it("another tenant's verified domain is refused, and so is a look-alike; subdomains of a verified domain pass", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const domain = uniqueDomain("own");
    const { body: d } = await call("POST", "/v1/domains", { apiKey: a.apiKey, body: { domain } });
    await setVerification(domain, "SUCCESS");
    await call("POST", `/v1/domains/${d.id}/verify`, { apiKey: a.apiKey });
    const from = (addr: string) => emailBatch({ message: { from: addr, subject: "Hi", text: "Hi" } });
    expect((await call("POST", "/v1/batches", { apiKey: b.apiKey, body: from(`billing@${domain}`) })).status).toBe(422);
    expect((await call("POST", "/v1/batches", { apiKey: a.apiKey, body: from(`x@evil${domain}`) })).status).toBe(422);
    expect((await call("POST", "/v1/batches", { apiKey: a.apiKey, body: from(`x@mail.${domain}`) })).status).toBe(201);
  });
});
