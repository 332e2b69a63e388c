// SES v2 identities through the real AWS SDK (SigV4 verified, SDK exception classes) and Resend's domains API
// over fetch, plus the verification control.
import {
  AlreadyExistsException,
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  NotFoundException,
  PutEmailIdentityMailFromAttributesCommand,
  SESv2Client,
} from "@aws-sdk/client-sesv2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sandboxCredentials } from "../config";
import { startSandbox, type Sandbox } from "./server";

let sandbox: Sandbox;
const other = { accessKeyId: "AKIASANDBOXOTHERACCT", secretAccessKey: "other/account/secret/0001", region: "us-east-1" };

function ses(creds: { accessKeyId: string; secretAccessKey: string; region: string } = sandboxCredentials.ses) {
  return new SESv2Client({ region: creds.region, endpoint: sandbox.url, credentials: creds, maxAttempts: 1 });
}

async function control(identity: string, status: string) {
  return fetch(`${sandbox.url}/_sandbox/identities/verify`, { method: "POST", body: JSON.stringify({ identity, status }) });
}

beforeAll(async () => {
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0, credentials: { ses: [other] } });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

describe("SES v2 identities", () => {
  it("creates a domain identity with three Easy DKIM tokens, PENDING until the control verifies it", async () => {
    const created = await ses().send(new CreateEmailIdentityCommand({ EmailIdentity: "news.example.com", Tags: [{ Key: "tenant", Value: "t1" }] }));
    expect(created.IdentityType).toBe("DOMAIN");
    expect(created.VerifiedForSendingStatus).toBe(false);
    expect(created.DkimAttributes?.Status).toBe("PENDING");
    expect(created.DkimAttributes?.Tokens).toHaveLength(3);
    for (const t of created.DkimAttributes!.Tokens!) expect(t).toMatch(/^[a-z2-7]{32}$/);

    await ses().send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: "news.example.com", MailFromDomain: "bounce.news.example.com", BehaviorOnMxFailure: "USE_DEFAULT_VALUE" }));
    let got = await ses().send(new GetEmailIdentityCommand({ EmailIdentity: "news.example.com" }));
    expect(got.VerificationStatus).toBe("PENDING");
    expect(got.DkimAttributes?.Tokens).toEqual(created.DkimAttributes?.Tokens);
    expect(got.MailFromAttributes).toEqual({ MailFromDomain: "bounce.news.example.com", MailFromDomainStatus: "PENDING", BehaviorOnMxFailure: "USE_DEFAULT_VALUE" });
    expect(got.Tags).toEqual([{ Key: "tenant", Value: "t1" }]);

    expect((await control("news.example.com", "SUCCESS")).status).toBe(200);
    got = await ses().send(new GetEmailIdentityCommand({ EmailIdentity: "news.example.com" }));
    expect(got.VerificationStatus).toBe("SUCCESS");
    expect(got.VerifiedForSendingStatus).toBe(true);
    expect(got.DkimAttributes?.Status).toBe("SUCCESS");
    expect(got.MailFromAttributes?.MailFromDomainStatus).toBe("SUCCESS");
    expect(got.VerificationInfo?.LastSuccessTimestamp).toBeInstanceOf(Date);

    await control("news.example.com", "FAILED");
    got = await ses().send(new GetEmailIdentityCommand({ EmailIdentity: "news.example.com" }));
    expect([got.VerificationStatus, got.VerifiedForSendingStatus]).toEqual(["FAILED", false]);
  });

  it("answers AlreadyExistsException, NotFoundException and BadRequestException as AWS does", async () => {
    await ses().send(new CreateEmailIdentityCommand({ EmailIdentity: "dup.example.com" }));
    await expect(ses().send(new CreateEmailIdentityCommand({ EmailIdentity: "dup.example.com" }))).rejects.toBeInstanceOf(AlreadyExistsException);
    await expect(ses().send(new GetEmailIdentityCommand({ EmailIdentity: "missing.example.com" }))).rejects.toBeInstanceOf(NotFoundException);
    const bad = await ses().send(new CreateEmailIdentityCommand({ EmailIdentity: "not a domain" })).catch((e: Error) => e);
    expect((bad as Error).name).toBe("BadRequestException");
    const mailFrom = await ses()
      .send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: "dup.example.com", MailFromDomain: "bounce.elsewhere.com" }))
      .catch((e: Error) => e);
    expect((mailFrom as Error).name).toBe("BadRequestException");
  });

  it("keeps identities per account, and deletes them", async () => {
    await ses().send(new CreateEmailIdentityCommand({ EmailIdentity: "acct.example.com" }));
    await expect(ses(other).send(new GetEmailIdentityCommand({ EmailIdentity: "acct.example.com" }))).rejects.toBeInstanceOf(NotFoundException);
    await ses().send(new DeleteEmailIdentityCommand({ EmailIdentity: "acct.example.com" }));
    await expect(ses().send(new GetEmailIdentityCommand({ EmailIdentity: "acct.example.com" }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it("refuses an unsigned or wrongly signed identity call", async () => {
    const res = await fetch(`${sandbox.url}/v2/email/identities/x.example.com`);
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amzn-errortype")).toMatch(/^MissingAuthenticationTokenException/);
    const wrong = ses({ ...sandboxCredentials.ses, secretAccessKey: "wrong" });
    const err = await wrong.send(new GetEmailIdentityCommand({ EmailIdentity: "x.example.com" })).catch((e: Error) => e);
    expect((err as Error).name).toBe("SignatureDoesNotMatch");
  });
});

describe("Resend domains", () => {
  const auth = { authorization: `Bearer ${sandboxCredentials.resend.apiKey}`, "content-type": "application/json" };
  const api = (path: string, init: RequestInit = {}) => fetch(`${sandbox.url}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });

  it("creates a domain with SPF MX/TXT and DKIM CNAME records, verifies it asynchronously", async () => {
    const res = await api("/domains", { method: "POST", body: JSON.stringify({ name: "Mail.Example.com", region: "eu-west-1" }) });
    expect(res.status).toBe(200);
    const d = (await res.json()) as { id: string; name: string; status: string; region: string; records: Record<string, unknown>[] };
    expect(d).toMatchObject({ name: "mail.example.com", status: "not_started", region: "eu-west-1" });
    expect(d.records).toContainEqual({ record: "SPF", name: "send", type: "MX", ttl: "Auto", status: "not_started", value: "feedback-smtp.eu-west-1.amazonses.com", priority: 10 });
    expect(d.records).toContainEqual({ record: "SPF", name: "send", type: "TXT", ttl: "Auto", status: "not_started", value: '"v=spf1 include:amazonses.com ~all"' });
    expect(d.records.filter((r) => r.record === "DKIM" && r.type === "CNAME")).toHaveLength(3);

    expect(await (await api(`/domains/${d.id}/verify`, { method: "POST" })).json()).toEqual({ object: "domain", id: d.id });
    expect(((await (await api(`/domains/${d.id}`)).json()) as { status: string }).status).toBe("pending");
    await control("mail.example.com", "SUCCESS");
    const after = (await (await api(`/domains/${d.id}`)).json()) as { status: string; records: { status: string }[] };
    expect(after.status).toBe("verified");
    expect(after.records.every((r) => r.status === "verified")).toBe(true);
    const list = (await (await api("/domains")).json()) as { data: { id: string }[] };
    expect(list.data.map((x) => x.id)).toEqual([d.id]);
    expect(await (await api(`/domains/${d.id}`, { method: "DELETE" })).json()).toEqual({ object: "domain", id: d.id, deleted: true });
    expect((await api(`/domains/${d.id}`)).status).toBe(404);
  });

  it("answers Resend's errors: missing key 401, bad key 403, missing name 422, unknown id 404", async () => {
    expect((await fetch(`${sandbox.url}/domains`)).status).toBe(401);
    expect((await fetch(`${sandbox.url}/domains`, { headers: { authorization: "Bearer re_nope" } })).status).toBe(403);
    const missing = await api("/domains", { method: "POST", body: "{}" });
    expect([missing.status, ((await missing.json()) as { name: string }).name]).toEqual([422, "missing_required_field"]);
    expect((await api("/domains", { method: "POST", body: JSON.stringify({ name: "-bad-" }) })).status).toBe(422);
    expect((await api("/domains/0b5a1d3e-0000-4000-8000-000000000000")).status).toBe(404);
  });
});

describe("identity control", () => {
  it("404s an unknown identity and 422s a bad status", async () => {
    expect((await control("nobody.example.com", "SUCCESS")).status).toBe(404);
    expect((await control("x.example.com", "MAYBE")).status).toBe(422);
  });
});
