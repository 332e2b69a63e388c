import { describe, expect, it } from "vitest";
import { classifyHttpStatus, parseRetryAfter } from "./outcome";
import { classifySesError, sesServiceError } from "./ses";
import { classifyTelnyxError, isE164 } from "./telnyx";
import { isPublicAddress, literalHostBlocked } from "./ssrf-guard";
import { CircuitBreaker } from "./circuit-breaker";

describe("HTTP status classification", () => {
  it.each([
    [200, "failed"], // only called for non-success answers; a 2xx without body is handled by callers
    [400, "failed"],
    [401, "failed"],
    [404, "failed"],
    [422, "failed"],
    [408, "retry"],
    [429, "retry"],
    [500, "retry"],
    [503, "retry"],
  ])("%i → %s", (status, kind) => {
    expect(classifyHttpStatus(status).kind).toBe(kind);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(classifyHttpStatus(429, "2")).toEqual({ kind: "retry", retryAfterMs: 2000 });
  });
});

describe("SES error classification", () => {
  const sdkError = (name: string, status?: number, fault?: string) =>
    Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: status === undefined ? undefined : { httpStatusCode: status } });

  it("throttling, 5xx and network errors are retryable", () => {
    expect(classifySesError(sdkError("TooManyRequestsException", 429, "client")).kind).toBe("retry");
    expect(classifySesError(sdkError("LimitExceededException", 400, "client")).kind).toBe("retry");
    expect(classifySesError(sdkError("InternalFailure", 500, "server")).kind).toBe("retry");
    expect(classifySesError(sdkError("SomethingNew", 502)).kind).toBe("retry");
    expect(classifySesError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })).kind).toBe("retry");
    expect(classifySesError(sdkError("TimeoutError")).kind).toBe("retry");
  });

  it("rejections fail the recipient with the provider's message", () => {
    const c = classifySesError(sdkError("MessageRejected", 400, "client"));
    expect(c).toMatchObject({ kind: "failed" });
    expect(c.reason).toContain("MessageRejected happened");
    expect(classifySesError(sdkError("BadRequestException", 400, "client")).kind).toBe("failed");
    expect(classifySesError(sdkError("MailFromDomainNotVerifiedException", 400, "client")).kind).toBe("failed");
  });

  // Deliberate (ses.ts CREDENTIALS): an operator's credential mistake stalls the batch instead of failing it.
  it.each(["SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "InvalidClientTokenId"])(
    "credential error %s is retryable, with its reason",
    (name) => {
      expect(classifySesError(sdkError(name, 403, "client"))).toEqual({ kind: "retry", reason: `ses ${name}: ${name} happened` });
    },
  );

  it("AccessDenied and other 4xx stay failures", () => {
    expect(classifySesError(sdkError("AccessDeniedException", 403, "client")).kind).toBe("failed");
    expect(classifySesError(sdkError("NotFoundException", 404, "client")).kind).toBe("failed");
  });
});

describe("SES error answers → SDK-shaped errors", () => {
  const answer = (status: number, body: string, headers: Record<string, string> = {}) => sesServiceError({ status, headers, body });

  it("takes the name from x-amzn-ErrorType, stripping the namespace URI", () => {
    const e = answer(400, '{"message":"Email address is not verified."}', {
      "x-amzn-errortype": "MessageRejected:http://internal.amazon.com/coral/com.amazonaws.sesv2/",
      "x-amzn-requestid": "req-1",
    });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: "MessageRejected", message: "Email address is not verified.", $fault: "client", $metadata: { httpStatusCode: 400, requestId: "req-1" } });
    expect(classifySesError(e)).toEqual({ kind: "failed", reason: "ses MessageRejected: Email address is not verified." });
  });

  it("falls back to the body's __type (namespace#Name) or code, and Message", () => {
    expect(answer(400, '{"__type":"com.amazonaws.sesv2#BadRequestException","Message":"bad"}')).toMatchObject({ name: "BadRequestException", message: "bad" });
    expect(answer(429, '{"code":"TooManyRequestsException","message":"slow down"}')).toMatchObject({ name: "TooManyRequestsException", message: "slow down" });
    expect(classifySesError(answer(429, '{"code":"TooManyRequestsException"}')).kind).toBe("retry");
  });

  it("survives bodies that are not JSON, empty or cut short", () => {
    expect(answer(503, "<html>Service Unavailable</html>")).toMatchObject({ name: "UnknownError", message: "<html>Service Unavailable</html>", $fault: "server" });
    expect(answer(400, "")).toMatchObject({ name: "UnknownError", message: "HTTP 400", $fault: "client" });
    expect(answer(400, '{"message":"cut', { "x-amzn-errortype": "MessageRejected" })).toMatchObject({ name: "MessageRejected", message: '{"message":"cut' });
    expect(answer(400, "[1,2]")).toMatchObject({ name: "UnknownError" });
    expect(classifySesError(answer(502, "gateway")).kind).toBe("retry");
    expect(classifySesError(answer(400, "nope")).kind).toBe("failed");
  });
});

describe("Telnyx", () => {
  it("validates E.164 before calling", () => {
    expect(isE164("+12125551000")).toBe(true);
    expect(isE164("+4915112345678")).toBe(true);
    expect(isE164("12125551000")).toBe(false);
    expect(isE164("+1 212 555 1000")).toBe(false);
    expect(isE164("+1555")).toBe(false);
  });

  it("classifies error codes", () => {
    expect(classifyTelnyxError(422, { errors: [{ code: "40310", title: "Invalid 'to' address" }] })).toMatchObject({ kind: "failed", reason: expect.stringContaining("Invalid 'to' address") });
    expect(classifyTelnyxError(400, { errors: [{ code: "40002", title: "Blocked as spam - temporary" }] }).kind).toBe("retry");
    expect(classifyTelnyxError(429, { errors: [{ code: "10011", title: "Too many requests" }] }, "1")).toMatchObject({ kind: "retry", retryAfterMs: 1000 });
    expect(classifyTelnyxError(503, {}).kind).toBe("retry");
  });
});

describe("SSRF guard", () => {
  it.each([
    ["127.0.0.1", false],
    ["10.1.2.3", false],
    ["172.16.0.1", false],
    ["192.168.1.1", false],
    ["169.254.169.254", false],
    ["100.64.0.1", false],
    ["0.0.0.0", false],
    ["::1", false],
    ["fe80::1", false],
    ["fd00:ec2::254", false],
    ["::ffff:127.0.0.1", false],
    ["8.8.8.8", true],
    ["2606:4700:4700::1111", true],
  ])("%s public=%s", (ip, pub) => {
    expect(isPublicAddress(ip)).toBe(pub);
  });

  it("checks literal hosts, honouring the allow-list", () => {
    expect(literalHostBlocked("127.0.0.1", [])).toBe(true);
    expect(literalHostBlocked("[::1]", [])).toBe(true);
    expect(literalHostBlocked("127.0.0.1", ["127.0.0.1"])).toBe(false);
    expect(literalHostBlocked("example.com", [])).toBe(false);
  });
});

describe("circuit breaker", () => {
  it("opens after the threshold, lets one trial through after the cooldown, closes on success", () => {
    let now = 0;
    const b = new CircuitBreaker({ threshold: 2, cooldownMs: 1000, now: () => now });
    b.failure("h");
    expect(b.allow("h")).toBe(true);
    b.failure("h");
    expect(b.allow("h")).toBe(false);
    now = 1500;
    expect(b.allow("h")).toBe(true);
    expect(b.allow("h")).toBe(false); // only one trial in flight
    b.success("h");
    expect(b.allow("h")).toBe(true);
  });
});
