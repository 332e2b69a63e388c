import { describe, expect, it } from "vitest";
import { renderChunk, renderMessage, forgetBatchTemplates, RenderError } from "./render";
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

const HOSTILE = "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}";

describe("hostile templates and variables (issue 6, scenario 1)", () => {
  it("fails a recipient whose template hits the render limit, quickly and with the reason", () => {
    const b = batch({ channel: "email", from: "A <a@x.dev>", subject: "Hi", html: HOSTILE });
    const started = Date.now();
    expect(() => renderMessage(b, { id: 1, address: "u@example.com", variables: {} })).toThrow(RenderError);
    expect(() => renderMessage(b, { id: 1, address: "u@example.com", variables: {} })).toThrow(/render limit exceeded/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("gives one recipient ONE budget across all of its fields", () => {
    // 16 fields that each take most of a render limit would take 16× the limit without a shared budget.
    const slow = "{% for a in (1..100000) %}{% for b in (1..100000) %}{% endfor %}{% endfor %}";
    const headers = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`X-H${i}`, slow]));
    const b = batch({ channel: "email", from: "A <a@x.dev>", subject: slow, text: slow, headers });
    const started = performance.now();
    expect(() => renderMessage(b, { id: 1, address: "u@example.com", variables: {} })).toThrow(/render limit exceeded/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("refuses variables over the caps before rendering", () => {
    const b = batch({ channel: "sms", text: "Hi {{ name }}" });
    const big = { name: "x".repeat(64 * 1024) };
    expect(() => renderMessage(b, { id: 1, address: "+12125551000", variables: big })).toThrow(/variables are \d+ bytes/);
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(() => renderMessage(b, { id: 2, address: "+12125551000", variables: deep })).toThrow(/nested more than/);
  });

  it("refuses a rendered message its provider does not accept", () => {
    const sms = batch({ channel: "sms", text: "{{ long }}" });
    expect(() => renderMessage(sms, { id: 1, address: "+12125551000", variables: { long: "a".repeat(2000) } })).toThrow(/segments/);
    const wh = batch({ channel: "webhook", body: "{% for i in (1..40) %}{{ blob }}{% endfor %}" });
    expect(() => renderMessage(wh, { id: 2, address: "https://h.example/x", variables: { blob: "y".repeat(10_000) } })).toThrow(
      /rendered webhook body|memory/,
    );
  });

  it("renders a chunk into messages and per-recipient failures, yielding to the event loop", async () => {
    const b = batch({ channel: "email", from: "A <a@x.dev>", subject: "Hi {{ n }}", html: "{% if bad %}" + HOSTILE + "{% endif %}ok" });
    const rows = Array.from({ length: 6 }, (_, i) => ({ id: i + 1, address: `u${i}@example.com`, variables: { n: i, bad: i % 2 === 0 } }));
    // A timer due in 20 ms must fire while the chunk renders (three 100 ms render-limit hits), not after.
    let timerFiredAt = 0;
    const started = performance.now();
    setTimeout(() => (timerFiredAt = performance.now()), 20);
    let yields = 0;
    const out = await renderChunk(b, rows, { onYield: () => yields++ });
    const finished = performance.now();
    expect(out.messages.map((m) => m.recipientId)).toEqual([2, 4, 6]);
    expect(out.failures.map((f) => f.id)).toEqual([1, 3, 5]);
    expect(out.failures.every((f) => /^render: render limit exceeded/.test(f.reason))).toBe(true);
    expect(yields).toBeGreaterThanOrEqual(3);
    expect(timerFiredAt).toBeGreaterThan(0);
    expect(timerFiredAt - started).toBeLessThan(finished - started - 100);
  });

  it("caches a payload that does not compile as its error", () => {
    const b = batch({ channel: "sms", text: "{% if %}" });
    expect(() => renderMessage(b, { id: 1, address: "+1", variables: {} })).toThrow(RenderError);
    expect(() => renderMessage(b, { id: 2, address: "+1", variables: {} })).toThrow(/Liquid syntax error/);
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
