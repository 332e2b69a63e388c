// SES v2 through the real AWS SDK (`@aws-sdk/client-sesv2`, only `endpoint` overridden): signatures verified,
// tags and headers recorded, errors surface as the SDK exceptions production code classifies.
import { SendEmailCommand, SESv2Client, type SendEmailCommandInput } from "@aws-sdk/client-sesv2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sandboxCredentials } from "../config";
import { startSandbox, type Sandbox } from "./server";

let sandbox: Sandbox;
const byok = { accessKeyId: "AKIASANDBOXBYOKTEST1", secretAccessKey: "byok/test/secret/0001", region: "us-east-1" };

function client(creds: { accessKeyId: string; secretAccessKey: string; region: string } = sandboxCredentials.ses) {
  return new SESv2Client({
    region: creds.region,
    endpoint: sandbox.url,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    maxAttempts: 1,
  });
}

function input(to: string, batchId = "b-ses-1", recipientId = "1"): SendEmailCommandInput {
  return {
    FromEmailAddress: "Sender <sender@example.com>",
    Destination: { ToAddresses: [to] },
    Content: {
      Simple: {
        Subject: { Data: "Hello {{name}}", Charset: "UTF-8" },
        Body: { Html: { Data: "<p>Hi</p>" }, Text: { Data: "Hi" } },
        Headers: [
          { Name: "List-Unsubscribe", Value: "<https://api.example.com/u/1>" },
          { Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click" },
        ],
      },
    },
    EmailTags: [
      { Name: "batch_id", Value: batchId },
      { Name: "recipient_id", Value: recipientId },
      { Name: "tenant_id", Value: "t-1" },
    ],
  };
}

async function sendError(c: SESv2Client, i: SendEmailCommandInput) {
  try {
    await c.send(new SendEmailCommand(i));
  } catch (err) {
    return err as { name: string; message: string; $metadata: { httpStatusCode?: number }; $fault: string; $retryable?: unknown };
  }
  throw new Error("expected SendEmail to fail");
}

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0, credentials: { ses: [byok] } });
});
afterAll(async () => sandbox.close());
beforeEach(() => sandbox.reset());

describe("SES v2 SendEmail", () => {
  it("accepts a signed call and records the message with headers and tags", async () => {
    const out = await client().send(new SendEmailCommand(input("alice@example.com")));
    expect(out.MessageId).toMatch(/^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);
    const [m, ...rest] = sandbox.messages({ batchId: "b-ses-1" });
    expect(rest).toHaveLength(0);
    expect(m).toMatchObject({
      id: out.MessageId,
      provider: "ses",
      to: "alice@example.com",
      from: "Sender <sender@example.com>",
      subject: "Hello {{name}}",
      html: "<p>Hi</p>",
      text: "Hi",
      headers: { "List-Unsubscribe": "<https://api.example.com/u/1>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
      batchId: "b-ses-1",
      recipientId: "1",
      tenantId: "t-1",
      credential: sandboxCredentials.ses.accessKeyId,
    });
    expect(new Date(m!.receivedAt).getTime()).toBe(m!.receivedAtMs);
  });

  it("accepts an extra (BYOK) key in its own region", async () => {
    await client(byok).send(new SendEmailCommand(input("byok@example.com", "b-byok")));
    expect(sandbox.messages({ batchId: "b-byok" })[0]?.credential).toBe(byok.accessKeyId);
  });

  it("accepts Content.Raw and reads recipients and parts from the MIME message", async () => {
    const raw = [
      "From: sender@example.com",
      "To: Raw Person <raw@example.com>",
      "Subject: raw hello",
      'Content-Type: multipart/alternative; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=UTF-8",
      "",
      "plain body",
      "--b1",
      "Content-Type: text/html; charset=UTF-8",
      "",
      "<b>html body</b>",
      "--b1--",
      "",
    ].join("\r\n");
    await client().send(new SendEmailCommand({ Content: { Raw: { Data: new TextEncoder().encode(raw) } }, EmailTags: [{ Name: "batch_id", Value: "b-raw" }] }));
    expect(sandbox.messages({ batchId: "b-raw" })).toEqual([
      expect.objectContaining({ to: "raw@example.com", subject: "raw hello", text: "plain body", html: "<b>html body</b>" }),
    ]);
  });

  it("a wrong secret is SignatureDoesNotMatch (403) and records nothing", async () => {
    const err = await sendError(client({ ...sandboxCredentials.ses, secretAccessKey: "wrong" }), input("bob@example.com", "b-badsig"));
    expect(err.name).toBe("SignatureDoesNotMatch");
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toMatch(/signature we calculated does not match/);
    expect(sandbox.messages({ batchId: "b-badsig" })).toHaveLength(0);
  });

  it("an unknown access key is UnrecognizedClientException (403)", async () => {
    const err = await sendError(client({ ...sandboxCredentials.ses, accessKeyId: "AKIAUNKNOWN000000000" }), input("bob@example.com"));
    expect(err.name).toBe("UnrecognizedClientException");
    expect(err.$metadata.httpStatusCode).toBe(403);
  });

  it("a request signed with a clock more than 5 minutes off is InvalidSignatureException", async () => {
    const c = new SESv2Client({ region: sandboxCredentials.ses.region, endpoint: sandbox.url, credentials: sandboxCredentials.ses, maxAttempts: 1, systemClockOffset: -10 * 60_000 });
    const err = await sendError(c, input("skew@example.com", "b-skew"));
    expect(err.name).toBe("InvalidSignatureException");
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    expect(sandbox.messages({ batchId: "b-skew" })).toHaveLength(0);
  });

  it("a body that does not match the signature is rejected", async () => {
    const c = client();
    // Rewrite the body after signing (same length, so Content-Length still fits): the payload hash no longer matches.
    type Middleware = Parameters<typeof c.middlewareStack.addRelativeTo>[0];
    type Next = (args: { request: unknown }) => Promise<unknown>;
    const tamper = (next: Next) => async (args: { request: unknown }) => {
      const request = args.request as { body?: Uint8Array | string };
      request.body = Buffer.from(request.body ?? "").toString("utf8").replace("alice@example.com", "bobby@example.com");
      return next(args);
    };
    c.middlewareStack.addRelativeTo(
      tamper as unknown as Middleware,
      { relation: "after", toMiddleware: "httpSigningMiddleware", name: "tamperAfterSigning" },
    );
    const err = await sendError(c, input("alice@example.com", "b-tamper"));
    expect(err.name).toBe("SignatureDoesNotMatch");
    expect(sandbox.messages({ batchId: "b-tamper" })).toHaveLength(0);
  });

  it("over the configured rate the SDK sees TooManyRequestsException (429)", async () => {
    await fetch(`${sandbox.url}/_sandbox/config`, { method: "POST", body: JSON.stringify({ rateLimits: { ses: 2 } }) });
    const c = client();
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => c.send(new SendEmailCommand(input(`r${i}@example.com`, "b-rate", String(i))))));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as Awaited<ReturnType<typeof sendError>>);
    expect(rejected.length).toBe(3);
    expect(rejected[0]!.name).toBe("TooManyRequestsException");
    expect(rejected[0]!.message).toBe("Maximum sending rate exceeded.");
    expect(rejected[0]!.$metadata.httpStatusCode).toBe(429);
    console.log("SDK throttling error:", { name: rejected[0]!.name, $fault: rejected[0]!.$fault, $retryable: rejected[0]!.$retryable });
    expect(sandbox.messages({ batchId: "b-rate" })).toHaveLength(2);
  });

  it("validation errors are BadRequestException; injected rejects are MessageRejected for that address only", async () => {
    const bad = await sendError(client(), { ...input("not-an-address"), FromEmailAddress: "sender@example.com" });
    expect(bad.name).toBe("BadRequestException");
    expect(bad.$metadata.httpStatusCode).toBe(400);

    await fetch(`${sandbox.url}/_sandbox/config`, { method: "POST", body: JSON.stringify({ faults: [{ provider: "ses", to: "blocked@example.com", kind: "reject" }] }) });
    const rejected = await sendError(client(), input("blocked@example.com", "b-reject", "1"));
    expect(rejected.name).toBe("MessageRejected");
    expect(rejected.$metadata.httpStatusCode).toBe(400);
    await client().send(new SendEmailCommand(input("fine@example.com", "b-reject", "2")));
    expect(sandbox.messages({ batchId: "b-reject" }).map((m) => m.to)).toEqual(["fine@example.com"]);
  });

  it("injected server_error and throttle surface as InternalFailure (500, server fault) and TooManyRequestsException (429)", async () => {
    await fetch(`${sandbox.url}/_sandbox/config`, {
      method: "POST",
      body: JSON.stringify({ faults: [{ provider: "ses", kind: "server_error", times: 1 }, { provider: "ses", kind: "throttle", times: 1 }] }),
    });
    const server = await sendError(client(), input("x@example.com", "b-5xx", "1"));
    expect([server.name, server.$metadata.httpStatusCode, server.$fault]).toEqual(["InternalFailure", 500, "server"]);
    const throttled = await sendError(client(), input("x@example.com", "b-5xx", "1"));
    expect([throttled.name, throttled.$metadata.httpStatusCode]).toEqual(["TooManyRequestsException", 429]);
    await client().send(new SendEmailCommand(input("x@example.com", "b-5xx", "1")));
    expect(sandbox.messages({ batchId: "b-5xx" })).toHaveLength(1);
  });
});
