// Issue 6, scenario 8: the SSRF guard of webhook targets — unusual IPv6 literal forms that embed an internal
// IPv4 address, restricted ports, and a TOTAL deadline so a trickling endpoint cannot hold a slot forever.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutgoingMessage } from "./interface";
import { isPublicAddress, literalHostBlocked } from "./ssrf-guard";
import { createWebhookClient } from "./webhook";

const msg = (id: number, to: string): OutgoingMessage => ({
  recipientId: id,
  idempotencyKey: `b1:${id}`,
  to,
  tags: { batchId: "b1", tenantId: "t1", recipientId: String(id) },
  webhook: { method: "POST", headers: {}, body: "{}" },
});

describe("SSRF guard: addresses", () => {
  it.each([
    "::127.0.0.1", // IPv4-compatible (deprecated) loopback: passed before
    "::7f00:1",
    "::10.0.0.1",
    "::169.254.169.254",
    "::ffff:127.0.0.1",
    "::ffff:0:127.0.0.1", // RFC 6145 translated
    "64:ff9b::127.0.0.1", // NAT64
    "64:ff9b::8.8.8.8", // NAT64 of a public address: a transition form, refused as a whole
    "64:ff9b:1::a00:1", // local-use NAT64
    "2002:7f00:1::", // 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo
    "::",
    "::1",
    "fd00:ec2::254",
    "fe80::1",
    "127.0.0.1",
    "169.254.169.254",
    "100.100.100.200",
    "0.0.0.0",
  ])("refuses %s", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "1.1.1.1"])("accepts %s", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it("checks literal hosts the way URL parsing leaves them", () => {
    expect(literalHostBlocked(new URL("http://[::127.0.0.1]/").hostname, [])).toBe(true);
    expect(literalHostBlocked(new URL("http://0x7f.1/").hostname, [])).toBe(true);
    expect(literalHostBlocked(new URL("http://2130706433/").hostname, [])).toBe(true);
    expect(literalHostBlocked(new URL("http://[2606:4700:4700::1111]/").hostname, [])).toBe(false);
  });
});

describe("webhook client: targets and deadlines", () => {
  let server: http.Server;
  let base: string;
  let hits = 0;
  const open = new Set<http.ServerResponse>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      if (req.url === "/trickle") {
        // Headers at once, then one byte every 100 ms, forever: an idle timeout never fires.
        res.writeHead(200, { "content-type": "text/plain" });
        open.add(res);
        const t = setInterval(() => res.write("x"), 100);
        res.on("close", () => clearInterval(t));
        return;
      }
      if (req.url === "/slow-headers") {
        // Never answers, but keeps the socket busy with nothing: covered by the same deadline.
        open.add(res);
        return;
      }
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const r of open) r.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("ends a trickling response at the total deadline, as a retry", { timeout: 5_000 }, async () => {
    const c = createWebhookClient({ timeoutMs: 600, allowedHosts: ["127.0.0.1"] });
    const started = Date.now();
    const [trickle, silent] = await c.send([msg(1, `${base}/trickle`), msg(2, `${base}/slow-headers`)]);
    expect(trickle).toMatchObject({ status: "retry", reason: expect.stringMatching(/timeout/) });
    expect(silent).toMatchObject({ status: "retry", reason: expect.stringMatching(/timeout/) });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("refuses IPv6 literal forms of internal addresses before any request", async () => {
    const c = createWebhookClient({ timeoutMs: 1000, allowedHosts: [] });
    const before = hits;
    const port = new URL(base).port;
    const out = await c.send([
      msg(3, `http://[::127.0.0.1]:${port}/`),
      msg(4, `http://[::ffff:127.0.0.1]:${port}/`),
      msg(5, `http://[64:ff9b::7f00:1]:${port}/`),
    ]);
    expect(out.map((o) => o.status)).toEqual(["failed", "failed", "failed"]);
    expect(out.every((o) => o.status === "failed" && /not a public address/.test(o.reason))).toBe(true);
    expect(hits).toBe(before);
  });

  it("refuses ports of internal services", async () => {
    const c = createWebhookClient({ timeoutMs: 1000, allowedHosts: [] });
    const out = await c.send([msg(6, "http://example.com:6379/"), msg(7, "https://example.com:22/"), msg(8, "http://example.com:5432/x")]);
    expect(out.map((o) => o.status)).toEqual(["failed", "failed", "failed"]);
    expect(out.every((o) => o.status === "failed" && /port/.test(o.reason))).toBe(true);
  });
});
