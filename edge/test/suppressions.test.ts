// Issue 8 item 4: /v1/suppressions — add, read, remove, list (cursor, filters, search), streamed import and
// export; addresses normalised like recipients (email lowercased as a whole), per tenant and per key mode.
import { describe, expect, it } from "vitest";
import { addApiKey, call, emailBatch, newTenant, query } from "./harness";

const csv = (apiKey: string, text: string, qs = "") =>
  call("POST", `/v1/suppressions/import${qs}`, { apiKey, body: text, headers: { "content-type": "text/csv" } });

describe("suppressions: one address", () => {
  it("adds normalised (email lowercased as a whole, phone E.164), keeps the first entry, reads and removes", async () => {
    const t = await newTenant();
    const added = await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: { address: "  Ada@Example.COM " } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ object: "suppression", channel: "email", address: "ada@example.com", reason: "manual", source: `api_key:${t.apiKeyId}` });
    const again = await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: { address: "ada@example.com", reason: "complaint" } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(added.body);

    const sms = await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: { channel: "sms", address: "+49 151 12345678", reason: "stop" } });
    expect(sms.status).toBe(201);
    expect(sms.body.address).toBe("+4915112345678");

    expect((await call("GET", "/v1/suppressions/email/ADA%40example.com", { apiKey: t.apiKey })).body).toEqual(added.body);
    expect((await call("GET", `/v1/suppressions/sms/${encodeURIComponent("+4915112345678")}`, { apiKey: t.apiKey })).status).toBe(200);
    expect((await call("GET", "/v1/suppressions/sms/ada%40example.com", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", "/v1/suppressions/fax/ada%40example.com", { apiKey: t.apiKey })).status).toBe(404);

    const removed = await call("DELETE", "/v1/suppressions/email/Ada%40Example.com", { apiKey: t.apiKey });
    expect(removed.status).toBe(200);
    expect(removed.body.address).toBe("ada@example.com");
    expect((await call("GET", "/v1/suppressions/email/ada%40example.com", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("DELETE", "/v1/suppressions/email/ada%40example.com", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("PUT", "/v1/suppressions/email/ada%40example.com", { apiKey: t.apiKey })).status).toBe(405);
  });

  it("a suppression added through the API stops a batch's recipient however the address is cased", async () => {
    const t = await newTenant();
    await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: { address: "GRACE@Example.com" } });
    const batch = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({}, ["ada@example.com", "Grace@EXAMPLE.com"]) });
    expect(batch.status).toBe(201);
    expect(batch.body.counts).toMatchObject({ total: 2, suppressed: 1 });
    const rows = await query<{ address: string; status: string }>("select address, status::text from recipients where batch_id = $1 order by address", [batch.body.id]);
    expect(rows).toEqual([
      { address: "ada@example.com", status: "pending" },
      { address: "grace@example.com", status: "suppressed" },
    ]);
  });

  it("refuses bad input with field errors", async () => {
    const t = await newTenant();
    const cases: [unknown, string][] = [
      [{ address: "not an address" }, "address"],
      [{ address: "" }, "address"],
      [{ channel: "sms", address: "015112345678" }, "address"],
      [{ channel: "fax", address: "ada@example.com" }, "channel"],
      [{ address: "ada@example.com", reason: "because" }, "reason"],
      [{ address: "ada@example.com", extra: 1 }, ""],
      [{ address: 42 }, "address"],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect((await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: "{" })).status).toBe(400);
    expect((await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: "address=x", headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await call("POST", "/v1/suppressions", { body: { address: "ada@example.com" } })).status).toBe(401);
  });
});

describe("suppressions: list", () => {
  it("pages by cursor in (channel, address) order, filters by channel and reason, searches case-insensitively", async () => {
    const t = await newTenant();
    const file = ["address,channel,reason", "e@example.com,,manual", "a@example.com,,complaint", "c@other.org,,manual", "b@example.com,,hard_bounce", "+4915112345678,sms,stop"].join("\n");
    expect((await csv(t.apiKey, file)).body).toMatchObject({ added: 5, rejected: 0 });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `?limit=2&starting_after=${encodeURIComponent(cursor)}` : "?limit=2";
      const page = await call("GET", `/v1/suppressions${qs}`, { apiKey: t.apiKey });
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((s: { channel: string; address: string }) => `${s.channel}:${s.address}`));
      cursor = page.body.nextCursor;
      expect(page.body.hasMore).toBe(cursor !== null);
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(["email:a@example.com", "email:b@example.com", "email:c@other.org", "email:e@example.com", "sms:+4915112345678"]);

    const addr = async (qs: string) => (await call("GET", `/v1/suppressions${qs}`, { apiKey: t.apiKey })).body.data.map((s: { address: string }) => s.address);
    expect(await addr("?channel=sms")).toEqual(["+4915112345678"]);
    expect(await addr("?reason=manual")).toEqual(["c@other.org", "e@example.com"]);
    expect(await addr("?search=EXAMPLE.com&reason=complaint")).toEqual(["a@example.com"]);
    expect(await addr("?search=%25")).toEqual([]);
    expect(await addr("?search=151")).toEqual(["+4915112345678"]);

    for (const qs of ["?limit=0", "?limit=1001", "?channel=fax", "?reason=nope", "?starting_after=not-a-cursor", `?starting_after=${btoa('["fax","x"]')}`, "?search="]) {
      const res = await call("GET", `/v1/suppressions${qs}`, { apiKey: t.apiKey });
      expect(res.status, qs).toBe(422);
    }
  });
});

describe("suppressions: import and export", () => {
  it("imports CSV with line-numbered errors and counts of added, duplicates and rejected", async () => {
    const t = await newTenant();
    await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: { address: "known@example.com" } });
    const file = [
      "\uFEFFAddress,Reason,Note", // 1: header, BOM, mixed case, an extra column
      "Ada@Example.com,unsubscribe,x", // 2
      "ada@example.com,complaint,dup in file", // 3
      "KNOWN@example.com,,already on the list", // 4
      "not an address,,", // 5
      "", // 6: blank
      "grace@example.com,because,", // 7: bad reason
      '"quoted@example.com",manual,"a, b"', // 8
      '"broken@example.com,manual', // 9: unbalanced quote (swallows the rest)
    ].join("\r\n");
    const res = await csv(t.apiKey, file);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: "suppression_import", rows: 7, added: 2, duplicates: 2, rejected: 3, errorsTruncated: false });
    expect(res.body.errors.map((e: { line: number }) => e.line)).toEqual([5, 7, 9]);
    expect(res.body.errors[0].message).toMatch(/address/);
    expect(res.body.errors[1].message).toMatch(/reason must be one of/);
    const [ada] = await query<{ reason: string; source: string }>("select reason, source from suppressions where tenant_id = $1 and address = 'ada@example.com'", [t.tenantId]);
    expect(ada).toEqual({ reason: "unsubscribe", source: `import by api_key:${t.apiKeyId}` });
  });

  it("imports NDJSON and uses the query's channel and reason for rows that name none", async () => {
    const t = await newTenant();
    const body = ['{"address":"+4915112345678"}', '{"address":"+1 650 253 0000","reason":"manual"}', "[1]", "{bad", '{"address":"+49"}', '{"address":"ada@example.com","channel":"email"}'].join("\n");
    const res = await call("POST", "/v1/suppressions/import?channel=sms&reason=stop", { apiKey: t.apiKey, body, headers: { "content-type": "application/x-ndjson" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rows: 6, added: 3, duplicates: 0, rejected: 3 });
    expect(res.body.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 5]);
    const rows = await query("select channel::text, address, reason from suppressions where tenant_id = $1 order by channel, address", [t.tenantId]);
    expect(rows).toEqual([
      { channel: "email", address: "ada@example.com", reason: "stop" },
      { channel: "sms", address: "+16502530000", reason: "manual" },
      { channel: "sms", address: "+4915112345678", reason: "stop" },
    ]);
  });

  it("streams a file larger than one page (2,500 rows) and counts every row", async () => {
    const t = await newTenant();
    const lines = ["address"];
    for (let i = 0; i < 2500; i++) lines.push(`user${i % 2400}@example.com`);
    const res = await csv(t.apiKey, lines.join("\n"));
    expect(res.body).toMatchObject({ rows: 2500, added: 2400, duplicates: 100, rejected: 0 });
    const [n] = await query<{ n: number }>("select count(*)::int as n from suppressions where tenant_id = $1", [t.tenantId]);
    expect(n!.n).toBe(2400);
  });

  it("refuses what it cannot read", async () => {
    const t = await newTenant();
    expect((await call("POST", "/v1/suppressions/import", { apiKey: t.apiKey, body: { address: "a@b.com" } })).status).toBe(415);
    expect((await csv(t.apiKey, "address\na@example.com", "?channel=fax")).status).toBe(422);
    expect((await csv(t.apiKey, "address\na@example.com", "?reason=nope")).status).toBe(422);
    const notUtf8 = await call("POST", "/v1/suppressions/import", {
      apiKey: t.apiKey,
      body: new Uint8Array([0x61, 0x64, 0x64, 0x72, 0x65, 0x73, 0x73, 0x0a, 0xff, 0xfe, 0x0a]),
      headers: { "content-type": "text/csv" },
    });
    // The recipient upload's rule for a body that is not UTF-8 (edge/http/row-stream.ts): a malformed body, 400.
    expect(notUtf8.status).toBe(400);
    expect((await call("GET", "/v1/suppressions/import", { apiKey: t.apiKey })).status).toBe(405);
  });

  it("exports the list as CSV that imports back unchanged", async () => {
    const t = await newTenant();
    // A quoted local part with a comma and quotes: the export must quote it so it reads back as one field.
    const imported = await csv(t.apiKey, 'address,channel,reason\n"""comma,quoted""@example.com",email,manual\nb@example.com,,complaint\n+4915112345678,sms,stop');
    expect(imported.body).toMatchObject({ added: 3, rejected: 0 });
    const all = await call("GET", "/v1/suppressions/export", { apiKey: t.apiKey });
    expect(all.status).toBe(200);
    expect(all.headers.get("content-type")).toContain("text/csv");
    const lines = (all.body as string).trim().split("\n");
    expect(lines[0]).toBe("channel,address,reason,source,created_at");
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^email,"""comma,quoted""@example\.com",manual,api_key:|^email,"""comma,quoted""@example\.com",manual,import by /);
    expect(lines[2]).toMatch(/^email,b@example\.com,complaint,import by api_key:[0-9a-f-]+,\d{4}-\d\d-\d\dT/);
    expect(lines[3]).toMatch(/^sms,\+4915112345678,stop,/);
    const sms = await call("GET", "/v1/suppressions/export?channel=sms", { apiKey: t.apiKey });
    expect((sms.body as string).trim().split("\n")).toHaveLength(2);
    expect((await call("GET", "/v1/suppressions/export?reason=nope", { apiKey: t.apiKey })).status).toBe(422);

    const other = await newTenant();
    expect((await csv(other.apiKey, all.body as string)).body).toMatchObject({ rows: 3, added: 3, rejected: 0 });
    const mine = await call("GET", "/v1/suppressions", { apiKey: t.apiKey });
    const theirs = await call("GET", "/v1/suppressions", { apiKey: other.apiKey });
    const key = (l: { data: { channel: string; address: string; reason: string }[] }) => l.data.map((s) => [s.channel, s.address, s.reason]);
    expect(key(theirs.body)).toEqual(key(mine.body));
  });
});

describe("suppressions: isolation", () => {
  it("another tenant's list does not exist", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", "/v1/suppressions", { apiKey: a.apiKey, body: { address: "ada@example.com" } });
    expect((await call("GET", "/v1/suppressions/email/ada%40example.com", { apiKey: b.apiKey })).status).toBe(404);
    expect((await call("DELETE", "/v1/suppressions/email/ada%40example.com", { apiKey: b.apiKey })).status).toBe(404);
    expect((await call("GET", "/v1/suppressions", { apiKey: b.apiKey })).body.data).toEqual([]);
    expect(((await call("GET", "/v1/suppressions/export", { apiKey: b.apiKey })).body as string).trim().split("\n")).toHaveLength(1);
    const batch = await call("POST", "/v1/batches", { apiKey: b.apiKey, body: emailBatch({}, ["ada@example.com"]) });
    expect(batch.body.counts.suppressed).toBe(0);
    // B adding the same address is its own entry.
    expect((await call("POST", "/v1/suppressions", { apiKey: b.apiKey, body: { address: "ada@example.com" } })).status).toBe(201);
  });

  it("a test key keeps its own list, checked only by test-mode batches", async () => {
    const t = await newTenant();
    const testKey = await addApiKey(t.tenantId, "test");
    expect((await call("POST", "/v1/suppressions", { apiKey: testKey, body: { address: "ada@example.com" } })).status).toBe(201);
    expect((await call("GET", "/v1/suppressions", { apiKey: t.apiKey })).body.data).toEqual([]);
    expect((await call("GET", "/v1/suppressions/email/ada%40example.com", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("DELETE", "/v1/suppressions/email/ada%40example.com", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", "/v1/suppressions", { apiKey: testKey })).body.data).toHaveLength(1);

    const live = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({}, ["ada@example.com"]) });
    expect(live.body.counts.suppressed).toBe(0);
    const test = await call("POST", "/v1/batches", { apiKey: testKey, body: emailBatch({}, ["ada@example.com"]) });
    expect(test.body.counts.suppressed).toBe(1);
    // The live key adding it is a separate, live entry.
    expect((await call("POST", "/v1/suppressions", { apiKey: t.apiKey, body: { address: "ada@example.com" } })).status).toBe(201);
  });
});
