// Issue 7, batches point 1: one message shape per channel, addresses normalised per channel, templates
// parsed at creation, provider limits as 422s naming the field.
import { describe, expect, it } from "vitest";
import { addSendConfig, call, emailBatch, newTenant, query } from "./harness";

const paths = (res: { body: { errors?: { path: string }[] } }) => res.body.errors?.map((e) => e.path);

describe("email batches", () => {
  it("parses from/replyTo as RFC 5322 mailboxes and only allows safe custom headers", async () => {
    const t = await newTenant();
    const post = (message: Record<string, unknown>) =>
      call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ message: { subject: "Hi", text: "Hello", ...message } }) });

    // Managed sends need a verified domain (issue 8); written directly, as the fixtures do.
    await query("insert into sending_domains (tenant_id, domain, provider, status) values ($1, 'acme.example.com', 'ses', 'verified')", [t.tenantId]);
    const ok = await post({ from: '"Acme News" <news@acme.example.com>', replyTo: "help@acme.example.com", headers: { "X-Campaign": "{{ name }}" } });
    expect(ok.status).toBe(201);
    const [row] = await query<{ payload: Record<string, unknown> }>("select payload from batches where id = $1", [ok.body.id]);
    expect(row!.payload).toMatchObject({ channel: "email", from: '"Acme News" <news@acme.example.com>', headers: { "X-Campaign": "{{ name }}" } });

    const badFrom = await post({ from: "Acme <not an address>", replyTo: "a, b@example.com" });
    expect(badFrom.status).toBe(422);
    expect(paths(badFrom)).toEqual(["message.from", "message.replyTo"]);

    for (const name of ["From", "Sender", "Return-Path", "DKIM-Signature", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "X-SES-CONFIGURATION-SET"]) {
      const refused = await post({ headers: { [name]: "x" } });
      expect(refused.status, name).toBe(422);
      expect(paths(refused), name).toEqual([`message.headers.${name}`]);
    }
    const injected = await post({ headers: { "X-Note": "a\r\nBcc: victim@example.com" } });
    expect(injected.status).toBe(422);
    const tooLong = await post({ headers: { "X-Note": "x".repeat(871) } });
    expect(tooLong.status).toBe(422);
    const tooMany = await post({ headers: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`X-H${i}`, "v"])) });
    expect(paths(tooMany)).toEqual(["message.headers"]);
    const badLiquid = await post({ headers: { "X-Note": "{{ name | nosuchfilter }}" } });
    expect(paths(badLiquid)).toEqual(["message.headers.X-Note"]);
  });
});

describe("sms batches", () => {
  it("normalises numbers to E.164, reports segments and refuses bad numbers and oversize text", async () => {
    const t = await newTenant();
    await addSendConfig(t, "sms", { fromNumber: "+15005550006" });
    const post = (body: Record<string, unknown>) => call("POST", "/v1/batches", { apiKey: t.apiKey, body: { name: "SMS", channel: "sms", ...body } });

    const ok = await post({ message: { text: "Hi {{ name }}, your code is ready" }, recipients: [{ to: "+49 151 1234 5678", variables: { name: "Ada" } }, { to: "+4915112345678" }, { to: "+1 (415) 555-2671" }] });
    expect(ok.status).toBe(201);
    expect(ok.body.channel).toBe("sms");
    expect(ok.body.duplicatesRemoved).toBe(1);
    // 33 characters, but the four braces are GSM-7 escape characters that count twice.
    expect(ok.body.smsSegments).toEqual({ encoding: "GSM-7", segments: 1, characters: 37 });
    const rows = await query<{ address: string }>("select address from recipients where batch_id = $1 order by id", [ok.body.id]);
    expect(rows.map((r) => r.address)).toEqual(["+4915112345678", "+14155552671"]);

    const unicode = await post({ message: { text: "Grüße 👋".repeat(10) }, recipients: [{ to: "+4915112345678" }] });
    expect(unicode.status).toBe(201);
    expect(unicode.body.smsSegments).toMatchObject({ encoding: "UCS-2", segments: 2 });

    const badNumbers = await post({ message: { text: "Hi" }, recipients: [{ to: "+4915112345678" }, { to: "015112345678" }, { to: "+999" }, { to: "ada@example.com" }] });
    expect(badNumbers.status).toBe(422);
    expect(paths(badNumbers)).toEqual(["recipients.1.to", "recipients.2.to", "recipients.3.to"]);

    const tooLong = await post({ message: { text: "👋".repeat(400) }, recipients: [{ to: "+4915112345678" }] });
    expect(tooLong.status).toBe(422);
    expect(paths(tooLong)).toEqual(["message.text"]);
    expect(tooLong.body.errors[0].message).toMatch(/segments; at most 10/);

    const emailShape = await post({ message: { subject: "Hi", html: "<p>x</p>" }, recipients: [{ to: "+4915112345678" }] });
    expect(emailShape.status).toBe(422);
    expect(paths(emailShape)).toEqual(["message.text"]);
  });

  it("the send config must match the channel", async () => {
    const t = await newTenant();
    const res = await call("POST", "/v1/batches", {
      apiKey: t.apiKey,
      body: { name: "SMS", channel: "sms", sendConfigId: t.sendConfigId, message: { text: "Hi" }, recipients: [{ to: "+4915112345678" }] },
    });
    expect(res.status).toBe(422);
    expect(paths(res)).toEqual(["sendConfigId"]);
    const noDefault = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: { name: "SMS", channel: "sms", message: { text: "Hi" }, recipients: [{ to: "+4915112345678" }] } });
    expect(noDefault.status).toBe(422);
    expect(noDefault.body.detail).toContain("No default sms send config");
  });
});

describe("webhook batches", () => {
  it("templates the URL per recipient and refuses private or malformed targets at creation", async () => {
    const t = await newTenant();
    await addSendConfig(t, "webhook");
    const post = (message: Record<string, unknown>, recipients: unknown[]) =>
      call("POST", "/v1/batches", { apiKey: t.apiKey, body: { name: "Hooks", channel: "webhook", message: { body: '{"user":"{{ user }}"}', ...message }, recipients } });

    const ok = await post({ url: "{{ to }}?user={{ user }}", method: "PUT", headers: { "X-Signature-Id": "k1" } }, [
      { to: "HTTPS://Hooks.Example.COM:443/a", variables: { user: "u1" } },
      { to: "https://hooks.example.com/a#frag" },
    ]);
    expect(ok.status).toBe(201);
    expect(ok.body.duplicatesRemoved).toBe(1);
    const rows = await query<{ address: string }>("select address from recipients where batch_id = $1", [ok.body.id]);
    expect(rows.map((r) => r.address)).toEqual(["https://hooks.example.com/a"]);
    const [batch] = await query<{ payload: Record<string, unknown> }>("select payload from batches where id = $1", [ok.body.id]);
    expect(batch!.payload).toMatchObject({ channel: "webhook", url: "{{ to }}?user={{ user }}", method: "PUT" });

    const privateTargets = await post({}, [
      { to: "https://hooks.example.com/ok" },
      { to: "http://127.0.0.1:8080/x" },
      { to: "http://[::1]/x" },
      { to: "http://169.254.169.254/latest/meta-data" },
      { to: "http://10.1.2.3/x" },
      { to: "http://metadata.google.internal/x" },
      { to: "http://localhost/x" },
      { to: "ftp://files.example.com/x" },
      { to: "https://user:pw@hooks.example.com/x" },
    ]);
    expect(privateTargets.status).toBe(422);
    expect(paths(privateTargets)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `recipients.${i}.to`));

    const templatedToPrivate = await post({ url: "http://{{ host }}/hook" }, [{ to: "https://hooks.example.com/a", variables: { host: "192.168.1.1" } }]);
    expect(templatedToPrivate.status).toBe(422);
    expect(templatedToPrivate.body.errors[0].message).toContain("192.168.1.1");

    const badTemplate = await post({ url: "https://hooks.example.com/{{ user" }, [{ to: "https://hooks.example.com/a" }]);
    expect(paths(badTemplate)).toEqual(["message.url"]);

    const reserved = await post({ headers: { Host: "evil.example.com" } }, [{ to: "https://hooks.example.com/a" }]);
    expect(paths(reserved)).toEqual(["message.headers.Host"]);
  });

  it("appends check targets with the batch's URL template too", async () => {
    const t = await newTenant();
    await addSendConfig(t, "webhook");
    const created = await call("POST", "/v1/batches", {
      apiKey: t.apiKey,
      body: { name: "Hooks", channel: "webhook", message: { body: "{}" }, recipients: [{ to: "https://hooks.example.com/1" }] },
    });
    expect(created.status).toBe(201);
    const bad = await call("POST", `/v1/batches/${created.body.id}/recipients`, { apiKey: t.apiKey, body: { recipients: [{ to: "http://127.0.0.1/x" }] } });
    expect(bad.status).toBe(422);
    expect(paths(bad)).toEqual(["recipients.0.to"]);
    const good = await call("POST", `/v1/batches/${created.body.id}/recipients`, { apiKey: t.apiKey, body: { recipients: [{ to: "https://hooks.example.com/2" }] } });
    expect(good.status).toBe(200);
    expect(good.body.added).toBe(1);
  });
});

describe("GET /v1/batches/{id}/preview", () => {
  it("renders one recipient by address or id, as the consumers would; unknown recipients and other tenants are 404", async () => {
    const t = await newTenant();
    const created = await call("POST", "/v1/batches", {
      apiKey: t.apiKey,
      body: emailBatch({
        message: { subject: "Hi {{ name }}\nBcc: x", html: "<p>{{ name }}</p>", text: "Hi {{ name }}", headers: { "X-Name": "{{ name }}" } },
        recipients: [{ to: "Ada@Example.com", variables: { name: "<Ada>" } }, { to: "bob@example.com" }],
      }),
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const byAddress = await call("GET", `/v1/batches/${id}/preview?recipient=${encodeURIComponent(" ADA@example.com")}`, { apiKey: t.apiKey });
    expect(byAddress.status).toBe(200);
    expect(byAddress.body).toMatchObject({
      object: "preview",
      recipient: { to: "ada@example.com" },
      message: { channel: "email", from: "Test <hello@test.batchsender.dev>", subject: "Hi <Ada> Bcc: x", html: "<p>&lt;Ada&gt;</p>", text: "Hi <Ada>", headers: { "X-Name": "<Ada>" } },
      problem: null,
    });
    const byId = await call("GET", `/v1/batches/${id}/preview?recipient=${byAddress.body.recipient.id}`, { apiKey: t.apiKey });
    expect(byId.body).toEqual(byAddress.body);

    expect((await call("GET", `/v1/batches/${id}/preview?recipient=nobody@example.com`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", `/v1/batches/${id}/preview`, { apiKey: t.apiKey })).status).toBe(422);
    const other = await newTenant();
    expect((await call("GET", `/v1/batches/${id}/preview?recipient=ada@example.com`, { apiKey: other.apiKey })).status).toBe(404);
  });

  it("reports SMS segments of the rendered text and a render limit as the recipient's problem", async () => {
    const t = await newTenant();
    await addSendConfig(t, "sms", { fromNumber: "+15005550006" });
    const created = await call("POST", "/v1/batches", {
      apiKey: t.apiKey,
      body: { name: "SMS", channel: "sms", message: { text: "Hi {{ name }}" }, recipients: [{ to: "+4915112345678", variables: { name: "Jürgen 🎉".repeat(100) } }, { to: "+14155552671", variables: { name: "Ada" } }] },
    });
    const short = await call("GET", `/v1/batches/${created.body.id}/preview?recipient=%2B14155552671`, { apiKey: t.apiKey });
    expect(short.body.message).toEqual({ channel: "sms", from: "+15005550006", text: "Hi Ada", segments: { encoding: "GSM-7", segments: 1, characters: 6 } });
    expect(short.body.problem).toBeNull();
    const long = await call("GET", `/v1/batches/${created.body.id}/preview?recipient=%2B4915112345678`, { apiKey: t.apiKey });
    expect(long.body.message.segments.encoding).toBe("UCS-2");
    expect(long.body.problem).toMatch(/segments; at most 10/);
  });

  it("renders a webhook's URL, headers and body", async () => {
    const t = await newTenant();
    await addSendConfig(t, "webhook");
    const created = await call("POST", "/v1/batches", {
      apiKey: t.apiKey,
      body: { name: "Hooks", channel: "webhook", message: { url: "{{ to }}?u={{ user }}", headers: { "X-User": "{{ user }}" }, body: '{"u":"{{ user }}"}' }, recipients: [{ to: "https://hooks.example.com/a", variables: { user: "u1" } }] },
    });
    const res = await call("GET", `/v1/batches/${created.body.id}/preview?recipient=https://hooks.example.com/a`, { apiKey: t.apiKey });
    expect(res.body.message).toEqual({ channel: "webhook", url: "https://hooks.example.com/a?u=u1", method: "POST", headers: { "X-User": "u1" }, body: '{"u":"u1"}' });
  });
});
