// The lean SES client against the real sandbox (SigV4 verified by the SDK's signer) and against raw servers
// for what the sandbox never answers (bad bodies, resets). Ends with a throughput printout, lean client vs the
// AWS SDK client it replaced — printed, not asserted.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sandboxCredentials } from "../../dev/config";
import { startSandbox, type Sandbox } from "../../dev/sandbox/server";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "./interface";
import { classifySesError, createSesClient, sesInput, type SesOptions } from "./ses";

let sandbox: Sandbox;
const creds = sandboxCredentials.ses;

const msg = (to: string, batchId: string, recipientId: number, extra: Partial<OutgoingMessage["email"]> = {}): OutgoingMessage => ({
  recipientId,
  idempotencyKey: `${batchId}:${recipientId}`,
  to,
  email: { from: "News <news@example.com>", subject: `Hello ${recipientId}`, text: "plain", html: "<p>html</p>", ...extra },
  tags: { batchId, tenantId: "t-ses", recipientId: String(recipientId) },
});

const lean = (extra: Partial<SesOptions> = {}) =>
  createSesClient({ region: creds.region, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, endpoint: sandbox.url, ...extra });

async function config(body: unknown) {
  const res = await fetch(`${sandbox.url}/_sandbox/config`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function one(client: ProviderClient, m: OutgoingMessage, signal?: AbortSignal): Promise<SendOutcome> {
  const [o, ...rest] = await client.send([m], signal);
  expect(rest).toHaveLength(0);
  return o!;
}

/** A plain HTTP server whose handler answers however a test needs. */
async function rawServer(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const closeServer = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => sandbox.close());
beforeEach(() => sandbox.reset());

describe("lean SES client against the sandbox", () => {
  it("sends a signed SendEmail that the sandbox records with subject, bodies, headers and tags", async () => {
    const m = msg("alice@example.com", "b-lean-1", 7, {
      replyTo: "reply@example.com",
      headers: { "List-Unsubscribe": "<https://api.example.com/u/7>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
    });
    const o = await one(lean(), m);
    expect(o).toMatchObject({ recipientId: 7, status: "sent", providerMessageId: expect.stringMatching(/^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/) });
    const [rec, ...rest] = sandbox.messages({ batchId: "b-lean-1" });
    expect(rest).toHaveLength(0);
    expect(rec).toMatchObject({
      id: (o as { providerMessageId: string }).providerMessageId,
      provider: "ses",
      to: "alice@example.com",
      from: "News <news@example.com>",
      subject: "Hello 7",
      text: "plain",
      html: "<p>html</p>",
      headers: { "List-Unsubscribe": "<https://api.example.com/u/7>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
      batchId: "b-lean-1",
      recipientId: "7",
      tenantId: "t-ses",
      credential: creds.accessKeyId,
    });
  });

  it("signs a session token along with the request", async () => {
    const o = await one(lean({ sessionToken: "FwoGZXIvYXdzEXAMPLEtoken//+==" }), msg("token@example.com", "b-lean-tok", 1));
    expect(o.status).toBe("sent");
    expect(sandbox.messages({ batchId: "b-lean-tok" })).toHaveLength(1);
  });

  it("sends several messages of one call in parallel, each with its own outcome", async () => {
    await config({ faults: [{ provider: "ses", to: "bad@example.com", kind: "reject" }] });
    const out = await lean().send([msg("a@example.com", "b-multi", 1), msg("bad@example.com", "b-multi", 2), msg("c@example.com", "b-multi", 3)]);
    expect(out.map((o) => [o.recipientId, o.status])).toEqual([
      [1, "sent"],
      [2, "failed"],
      [3, "sent"],
    ]);
  });

  // Deliberate: a bad credential never fixes itself, but failing every recipient of a batch for an operator's
  // mistake is worse. `retry` stalls the batch visibly and finally dead-letters the chunk with this reason.
  it("a wrong secret (SignatureDoesNotMatch) is retry, with the reason, and records nothing", async () => {
    const o = await one(lean({ secretAccessKey: "wrong" }), msg("bob@example.com", "b-lean-badsig", 1));
    expect(o).toMatchObject({ status: "retry", reason: expect.stringMatching(/^ses SignatureDoesNotMatch: The request signature we calculated/) });
    expect(sandbox.messages({ batchId: "b-lean-badsig" })).toHaveLength(0);
  });

  it("an unknown access key (UnrecognizedClientException) is retry", async () => {
    const o = await one(lean({ accessKeyId: "AKIAUNKNOWN000000000" }), msg("bob@example.com", "b-lean-unk", 1));
    expect(o).toMatchObject({ status: "retry", reason: expect.stringContaining("UnrecognizedClientException") });
  });

  it("a key scoped to the wrong region is a signature error, retry", async () => {
    const o = await one(lean({ region: "us-west-2" }), msg("bob@example.com", "b-lean-region", 1));
    expect(o).toMatchObject({ status: "retry", reason: expect.stringContaining("SignatureDoesNotMatch") });
  });

  it("injected throttle → retry; reject → failed with SES's reason; server_error → retry", async () => {
    const c = lean();
    await config({ faults: [{ provider: "ses", kind: "throttle", times: 1 }] });
    expect(await one(c, msg("t@example.com", "b-f", 1))).toMatchObject({ status: "retry", reason: "ses TooManyRequestsException: Maximum sending rate exceeded." });
    expect((await one(c, msg("t@example.com", "b-f", 2))).status).toBe("sent");

    await config({ faults: [{ provider: "ses", to: "nope@example.com", kind: "reject" }] });
    const rejected = await one(c, msg("nope@example.com", "b-f", 3));
    expect(rejected).toMatchObject({ status: "failed", reason: expect.stringMatching(/^ses MessageRejected: Email address is not verified\..*nope@example\.com/) });

    await config({ faults: [{ provider: "ses", kind: "server_error", times: 1 }] });
    expect(await one(c, msg("s@example.com", "b-f", 4))).toMatchObject({ status: "retry", reason: expect.stringContaining("ses InternalFailure") });
    expect(sandbox.messages({ batchId: "b-f" }).map((m) => m.recipientId)).toEqual(["2"]);
  });

  it("a held request (fault timeout) is retry within about timeoutMs, and the client keeps working", async () => {
    const c = lean({ timeoutMs: 300 });
    await config({ faults: [{ provider: "ses", to: "slow@example.com", kind: "timeout" }] });
    const t0 = performance.now();
    const o = await one(c, msg("slow@example.com", "b-slow", 1));
    const elapsed = performance.now() - t0;
    expect(o).toMatchObject({ status: "retry", reason: expect.stringContaining("ses TimeoutError") });
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_500);
    expect((await one(c, msg("fast@example.com", "b-slow", 2))).status).toBe("sent");
  });

  it("an aborted signal ends a held call at once as retry", async () => {
    await config({ faults: [{ provider: "ses", to: "slow@example.com", kind: "timeout" }] });
    const ac = new AbortController();
    const t0 = performance.now();
    const pending = one(lean(), msg("slow@example.com", "b-abort", 1), ac.signal);
    setTimeout(() => ac.abort(), 100);
    expect(await pending).toMatchObject({ status: "retry", reason: expect.stringContaining("AbortError") });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await one(lean(), msg("x@example.com", "b-abort", 2), ac.signal)).toMatchObject({ status: "retry", reason: expect.stringContaining("AbortError") });
  });
});

describe("lean SES client on the wire", () => {
  it("sends what the AWS SDK sends: path, content type, JSON body, signed host/date/payload hash/token", async () => {
    const seen: { method?: string; url?: string; headers: IncomingMessage["headers"]; body: Buffer }[] = [];
    const { url, server } = await rawServer((req, body, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"MessageId":"m-1"}');
    });
    try {
      const m = msg("wire@example.com", "b-wire", 1, { headers: { "X-Campaign": "spring" } });
      const credentials = { accessKeyId: "AKIAWIRE", secretAccessKey: "wire-secret", sessionToken: "session-token" };
      expect(await one(createSesClient({ region: "eu-west-1", endpoint: url, ...credentials }), m)).toEqual({ recipientId: 1, status: "sent", providerMessageId: "m-1" });
      const sdk = new SESv2Client({ region: "eu-west-1", endpoint: url, credentials, maxAttempts: 1 });
      await sdk.send(new SendEmailCommand(sesInput(m)));
      sdk.destroy();

      const [ours, theirs] = seen;
      expect(ours!.method).toBe("POST");
      expect(ours!.url).toBe("/v2/email/outbound-emails");
      expect(ours!.url).toBe(theirs!.url);
      expect(ours!.headers["content-type"]).toBe("application/json");
      expect(ours!.headers.host).toBe(theirs!.headers.host);
      expect(JSON.parse(ours!.body.toString())).toEqual(JSON.parse(theirs!.body.toString()));
      expect(ours!.headers["x-amz-content-sha256"]).toBe(createHash("sha256").update(ours!.body).digest("hex"));
      expect(ours!.headers["x-amz-security-token"]).toBe("session-token");
      const auth = ours!.headers.authorization ?? "";
      expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAWIRE\/\d{8}\/eu-west-1\/ses\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
      const signed = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(";");
      expect(signed).toEqual(expect.arrayContaining(["content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"]));
      // Keep-alive: both of our sends would reuse one connection; the SDK opened its own.
      expect(ours!.headers.connection).toBe("keep-alive");
    } finally {
      await closeServer(server);
    }
  });

  it("reuses one connection for sequential sends", async () => {
    const ports = new Set<number>();
    const { url, server } = await rawServer((req, _body, res) => {
      ports.add(req.socket.remotePort!);
      res.writeHead(200, { "content-type": "application/json" }).end('{"MessageId":"m"}');
    });
    try {
      const c = createSesClient({ region: "eu-west-1", endpoint: url, accessKeyId: "a", secretAccessKey: "b" });
      for (let i = 0; i < 5; i++) expect((await one(c, msg("k@example.com", "b-ka", i))).status).toBe("sent");
      expect(ports.size).toBe(1);
    } finally {
      await closeServer(server);
    }
  });

  it("never throws on odd answers: non-JSON, truncated, __type/code error names, 5xx pages", async () => {
    const answers: ((res: ServerResponse) => void)[] = [
      (res) => res.writeHead(200, { "content-type": "application/json" }).end("not json"),
      (res) => {
        // Promise 200 bytes, send 10, cut the connection.
        res.writeHead(200, { "content-type": "application/json", "content-length": "200" });
        res.write('{"MessageI');
        setTimeout(() => res.socket?.destroy(), 20);
      },
      (res) => res.writeHead(400, { "content-type": "application/json" }).end('{"__type":"com.amazonaws.sesv2#MessageRejected","Message":"Address blacklisted."}'),
      (res) => res.writeHead(400, { "content-type": "application/json" }).end('{"code":"BadRequestException","message":"bad tag"}'),
      (res) => res.writeHead(502, { "content-type": "text/html" }).end("<html>Bad Gateway</html>"),
      (res) => {
        res.writeHead(400, { "x-amzn-errortype": "MessageRejected:http://internal.amazon.com/coral/", "content-length": "500" });
        res.write('{"message":"Email ad');
        setTimeout(() => res.socket?.destroy(), 20);
      },
      (res) => res.writeHead(429, { "retry-after": "2" }).end(),
      (res) => res.writeHead(403, { "x-amzn-errortype": "ExpiredTokenException" }).end('{"message":"The security token included in the request is expired"}'),
    ];
    let i = 0;
    const { url, server } = await rawServer((_req, _body, res) => answers[i++]!(res));
    try {
      const c = createSesClient({ region: "eu-west-1", endpoint: url, accessKeyId: "a", secretAccessKey: "b" });
      const out: SendOutcome[] = [];
      for (let n = 0; n < answers.length; n++) out.push(await one(c, msg("odd@example.com", "b-odd", n)));
      expect(out).toEqual([
        { recipientId: 0, status: "retry", reason: "ses: answer without MessageId (HTTP 200)" },
        { recipientId: 1, status: "retry", reason: "ses: answer without MessageId (HTTP 200, truncated)" },
        { recipientId: 2, status: "failed", reason: "ses MessageRejected: Address blacklisted." },
        { recipientId: 3, status: "failed", reason: "ses BadRequestException: bad tag" },
        { recipientId: 4, status: "retry", reason: "ses UnknownError: <html>Bad Gateway</html>" },
        { recipientId: 5, status: "failed", reason: 'ses MessageRejected: {"message":"Email ad' },
        { recipientId: 6, status: "retry", reason: "ses UnknownError: HTTP 429", retryAfterMs: 2000 },
        { recipientId: 7, status: "retry", reason: "ses ExpiredTokenException: The security token included in the request is expired" },
      ]);
    } finally {
      await closeServer(server);
    }
  });

  it("a refused connection is retry", async () => {
    const { url, server } = await rawServer(() => undefined);
    await closeServer(server);
    const o = await one(createSesClient({ region: "eu-west-1", endpoint: url, accessKeyId: "a", secretAccessKey: "b" }), msg("r@example.com", "b-ref", 1));
    expect(o).toMatchObject({ status: "retry", reason: expect.stringContaining("ECONNREFUSED") });
  });
});

describe("throughput, lean client vs AWS SDK client (printed, not asserted)", () => {
  function sdkClient(): ProviderClient & { destroy(): void } {
    const client = new SESv2Client({
      region: creds.region,
      endpoint: sandbox.url,
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
      maxAttempts: 1,
      requestHandler: { requestTimeout: 15_000, connectionTimeout: 5_000 },
    });
    return {
      provider: "ses",
      maxPerCall: 1,
      destroy: () => client.destroy(),
      send: (messages, signal) =>
        Promise.all(
          messages.map(async (m): Promise<SendOutcome> => {
            try {
              const out = await client.send(new SendEmailCommand(sesInput(m)), { abortSignal: signal });
              return { recipientId: m.recipientId, status: "sent", providerMessageId: out.MessageId ?? "" };
            } catch (err) {
              return { recipientId: m.recipientId, status: "retry", reason: classifySesError(err).reason };
            }
          }),
        ),
    };
  }

  async function run(client: ProviderClient, n: number, concurrency: number, batchId: string, signal: AbortSignal) {
    let next = 0;
    let sent = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const [o] = await client.send([msg(`u${i}@example.com`, batchId, i)], signal);
          if (o?.status === "sent") sent++;
        }
      }),
    );
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { sent, perSecond: Math.round((n / ms) * 1000), cpuMsPerSend: (cpu.user + cpu.system) / 1000 / n };
  }

  it("2,000 sends, 16 concurrent, each client", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    // One signal shared by every concurrent send, as the consumer passes its shutdown signal. The SDK adds a
    // listener per call (and trips Node's leak warning on its own signal); ours must not.
    const shared = new AbortController().signal;
    const sdkSignal = new AbortController().signal;
    const leanClient = lean();
    const sdk = sdkClient();
    try {
      // Warm up both (JIT, connections), then measure each twice, interleaved.
      await run(leanClient, 200, 16, "b-warm", shared);
      await run(sdk, 200, 16, "b-warm", sdkSignal);
      const results: Record<string, ReturnType<typeof run> extends Promise<infer R> ? R[] : never> = { lean: [], sdk: [] };
      for (let round = 0; round < 2; round++) {
        sandbox.reset();
        results.lean!.push(await run(leanClient, 2_000, 16, "b-bench-lean", shared));
        sandbox.reset();
        results.sdk!.push(await run(sdk, 2_000, 16, "b-bench-sdk", sdkSignal));
      }
      for (const [name, rs] of Object.entries(results)) {
        for (const r of rs) expect(r.sent).toBe(2_000);
        console.log(
          `ses ${name.padEnd(4)}: ${rs.map((r) => `${r.perSecond} sends/s (${r.cpuMsPerSend.toFixed(3)} CPU-ms/send incl. sandbox)`).join(", ")}`,
        );
      }
      const sdkWarned = warnings.some((w) => (w as Error & { target?: unknown }).target === sdkSignal);
      if (sdkWarned) console.log("ses sdk : MaxListenersExceededWarning on a shared abort signal");
      expect(warnings.filter((w) => (w as Error & { target?: unknown }).target === shared)).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      sdk.destroy();
    }
  });
});
