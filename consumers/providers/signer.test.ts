import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { createSigner, NodeSha256 } from "./sigv4-post";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const request = (body: string) => ({
  method: "POST",
  protocol: "https:",
  hostname: "email.eu-central-1.amazonaws.com",
  path: "/v2/email/outbound-emails",
  query: {},
  headers: { host: "email.eu-central-1.amazonaws.com", "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
  body: Buffer.from(body),
});

describe("createSigner (signing key and date reused across calls)", () => {
  it("signs exactly as a plain SignatureV4, across seconds and a day boundary, with and without a session token", async () => {
    for (const creds of [credentials, { ...credentials, sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN" }]) {
      const ours = createSigner({ credentials: creds, region: "eu-central-1", service: "ses" });
      const plain = new SignatureV4({ credentials: creds, region: "eu-central-1", service: "ses", sha256: NodeSha256, uriEscapePath: true, applyChecksum: true });
      const dates = ["2026-12-01T23:59:58.100Z", "2026-12-01T23:59:58.900Z", "2026-12-01T23:59:59.000Z", "2026-12-02T00:00:00.001Z", "2026-12-02T00:00:00.500Z"];
      for (const [i, iso] of dates.entries()) {
        const signingDate = new Date(iso);
        const body = `{"n":${i}}`;
        const a = await ours.sign(request(body), { signingDate });
        const b = await plain.sign(request(body), { signingDate });
        expect(a.headers).toEqual(b.headers);
      }
    }
  });
});
