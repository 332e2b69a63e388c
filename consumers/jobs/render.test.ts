import { describe, expect, it } from "vitest";
import { renderMessage, forgetBatchTemplates } from "./render";
import { chunk, CHUNK_SIZE } from "./chunking";
import { nakDelayMs } from "./send";

const batch = (payload: unknown, id = crypto.randomUUID()) => ({ id, tenantId: "t-1", payload, defaults: { from: "Default <d@x.dev>", fromNumber: "+12125550100" } });

describe("renderMessage", () => {
  it("personalises email, escapes HTML bodies but not text, exposes {{ email }}", () => {
    const b = batch({ channel: "email", from: "A <a@x.dev>", subject: "Hi {{ name }}", html: "<p>{{ name }} {{ email }}</p>", text: "Hi {{ name }}" });
    const m = renderMessage(b, { id: 7, address: "u@example.com", variables: { name: "<b>Ada</b>" } });
    expect(m.email).toMatchObject({ from: "A <a@x.dev>", subject: "Hi <b>Ada</b>", text: "Hi <b>Ada</b>" });
    expect(m.email!.html).toBe("<p>&lt;b&gt;Ada&lt;/b&gt; u@example.com</p>");
    expect(m.idempotencyKey).toBe(`${b.id}:7`);
    expect(m.tags).toEqual({ batchId: b.id, tenantId: "t-1", recipientId: "7" });
  });

  it("never lets a variable add header lines or override the address", () => {
    const b = batch({ channel: "email", from: "A <a@x.dev>", subject: "{{ s }}", text: "{{ email }}", headers: { "X-Ref": "{{ s }}" } });
    const m = renderMessage(b, { id: 1, address: "real@example.com", variables: { s: "a\r\nBcc: evil@x.dev", email: "spoof@x.dev" } });
    expect(m.email!.subject).toBe("a Bcc: evil@x.dev");
    expect(m.email!.headers!["X-Ref"]).not.toMatch(/[\r\n]/);
    expect(m.email!.text).toBe("real@example.com");
  });

  it("uses send-config defaults for SMS and renders webhook bodies", () => {
    const sms = renderMessage(batch({ channel: "sms", text: "Code {{ code }}" }), { id: 2, address: "+12125551000", variables: { code: 42 } });
    expect(sms.sms).toEqual({ from: "+12125550100", messagingProfileId: undefined, text: "Code 42" });
    const wh = renderMessage(batch({ channel: "webhook", body: '{"n":{{ n | json }}}' }), { id: 3, address: "https://h.example/x", variables: { n: "a\"b" } });
    expect(JSON.parse(wh.webhook!.body)).toEqual({ n: 'a"b' });
    expect(wh.webhook!.method).toBe("POST");
  });

  it("refuses includes (no file system) and unknown filters", () => {
    const b1 = batch({ channel: "sms", text: "{% include '/etc/passwd' %}" });
    expect(() => renderMessage(b1, { id: 4, address: "+12125551000", variables: {} })).toThrow();
    const b2 = batch({ channel: "sms", text: "{{ x | nope }}" });
    expect(() => renderMessage(b2, { id: 5, address: "+12125551000", variables: {} })).toThrow();
  });

  it("caches parsed templates per batch", () => {
    const id = crypto.randomUUID();
    renderMessage(batch({ channel: "sms", text: "v1" }, id), { id: 1, address: "+1", variables: {} });
    // Same batch id: the cached template wins (a queued batch's payload never changes).
    expect(renderMessage(batch({ channel: "sms", text: "v2" }, id), { id: 1, address: "+1", variables: {} }).sms!.text).toBe("v1");
    forgetBatchTemplates(id);
    expect(renderMessage(batch({ channel: "sms", text: "v2" }, id), { id: 1, address: "+1", variables: {} }).sms!.text).toBe("v2");
  });
});

describe("chunking", () => {
  it("splits ids by provider chunk size, preserving order", () => {
    const ids = Array.from({ length: 250 }, (_, i) => i + 1);
    const parts = chunk(ids, CHUNK_SIZE.resend);
    expect(parts.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(parts.flat()).toEqual(ids);
    expect(chunk(ids, CHUNK_SIZE.ses)).toHaveLength(5);
    expect(chunk([], 50)).toEqual([]);
  });
});

describe("nak backoff", () => {
  it("grows with deliveries, is capped, jittered, and honours retry-after", () => {
    for (let d = 1; d <= 8; d++) {
      const exp = Math.min(60_000, 1000 * 2 ** (d - 1));
      const v = nakDelayMs(d);
      expect(v).toBeGreaterThanOrEqual(exp / 2);
      expect(v).toBeLessThanOrEqual(exp);
    }
    expect(nakDelayMs(1, 10_000)).toBe(10_000);
  });
});
