import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutgoingMessage } from "./interface";
import { batchIdempotencyKey, createResendClient } from "./resend";
import { createWebhookClient } from "./webhook";

const msg = (id: number, to: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  recipientId: id,
  idempotencyKey: `b1:${id}`,
  to,
  tags: { batchId: "b1", tenantId: "t1", recipientId: String(id) },
  email: { from: "a@x.dev", subject: "s", text: "t" },
  webhook: { method: "POST", headers: {}, body: "{}" },
  ...extra,
});

describe("webhook client", () => {
  let server: http.Server;
  let base: string;
  const seen: { path: string; key: string | undefined }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url!, key: req.headers["idempotency-key"] as string | undefined });
      const status = Number(req.url!.slice(1)) || 200;
      if (status === 302) res.setHeader("location", "http://169.254.169.254/latest/meta-data");
      res.writeHead(status).end("body");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("maps statuses, never follows redirects, sends the idempotency key", async () => {
    const c = createWebhookClient({ timeoutMs: 2000, allowedHosts: ["127.0.0.1"] });
    const out = await c.send([msg(1, `${base}/204`), msg(2, `${base}/404`), msg(3, `${base}/503`), msg(4, `${base}/429`), msg(5, `${base}/302`)]);
    expect(out.map((o) => o.status)).toEqual(["sent", "failed", "retry", "retry", "failed"]);
    expect(out[4]).toMatchObject({ reason: expect.stringMatching(/redirects are not followed/) });
    expect(seen.find((s) => s.path === "/204")?.key).toBe("b1:1");
    expect(seen.filter((s) => s.path === "/302")).toHaveLength(1);
  });

  it("refuses private targets unless allow-listed, before any request", async () => {
    const c = createWebhookClient({ timeoutMs: 2000, allowedHosts: [] });
    const before = seen.length;
    const out = await c.send([msg(6, `${base}/200`), msg(7, base.replace("127.0.0.1", "localhost") + "/200"), msg(8, "file:///etc/passwd")]);
    expect(out.map((o) => o.status)).toEqual(["failed", "failed", "failed"]);
    expect(out[1]).toMatchObject({ reason: expect.stringMatching(/non-public address/) });
    expect(seen.length).toBe(before);
  });
});

describe("resend client", () => {
  it("sends >1 as one batch call keyed by the sorted recipient ids", async () => {
    const calls: { url: string; key: string | null; body: unknown }[] = [];
    const fetchFake = (async (url: string, init: RequestInit) => {
      calls.push({ url, key: new Headers(init.headers).get("idempotency-key"), body: JSON.parse(init.body as string) });
      return new Response(JSON.stringify({ data: [{ id: "e1" }, { id: "e2" }] }), { status: 200 });
    }) as unknown as typeof fetch;
    const c = createResendClient({ apiUrl: "http://resend.test/", apiKey: "k", fetch: fetchFake });
    const out = await c.send([msg(9, "a@example.com"), msg(3, "b@example.com")]);
    expect(out).toEqual([
      { recipientId: 9, status: "sent", providerMessageId: "e1" },
      { recipientId: 3, status: "sent", providerMessageId: "e2" },
    ]);
    expect(calls[0]!.url).toBe("http://resend.test/emails/batch");
    expect(calls[0]!.key).toBe(batchIdempotencyKey([msg(3, "x"), msg(9, "y")]));
  });

  it("on a strict-validation 422 resends singly so only the bad address fails; 429 retries with retry-after", async () => {
    const fetchFake = (async (url: string, init: RequestInit) => {
      const body = JSON.parse(init.body as string);
      if (url.endsWith("/batch")) return new Response(JSON.stringify({ name: "validation_error", message: "Invalid `to` field" }), { status: 422 });
      if (body.to[0] === "bad") return new Response(JSON.stringify({ name: "validation_error", message: "Invalid `to` field" }), { status: 422 });
      return new Response(JSON.stringify({ id: `id-${body.to[0]}` }), { status: 200 });
    }) as unknown as typeof fetch;
    const c = createResendClient({ apiUrl: "http://resend.test", apiKey: "k", fetch: fetchFake });
    const out = await c.send([msg(1, "ok@example.com"), msg(2, "bad")]);
    expect(out[0]).toEqual({ recipientId: 1, status: "sent", providerMessageId: "id-ok@example.com" });
    expect(out[1]).toMatchObject({ recipientId: 2, status: "failed", reason: expect.stringContaining("Invalid `to` field") });

    const throttled = createResendClient({
      apiUrl: "http://resend.test",
      apiKey: "k",
      fetch: (async () => new Response("{}", { status: 429, headers: { "retry-after": "2" } })) as unknown as typeof fetch,
    });
    expect(await throttled.send([msg(1, "a@example.com"), msg(2, "b@example.com")])).toEqual([
      expect.objectContaining({ status: "retry", retryAfterMs: 2000 }),
      expect.objectContaining({ status: "retry", retryAfterMs: 2000 }),
    ]);
  });
});
