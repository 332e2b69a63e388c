/**
 * Sandbox control of identity verification (tests and `npm run admin -- domain verify --force` only):
 * `POST /_sandbox/identities/verify {identity, status}` sets what the provider's DNS check concludes for every
 * SES identity and Resend domain of that name; `GET /_sandbox/identities` lists them.
 */
import { z } from "zod";
import type { SandboxState } from "./flow";
import { parseJson, problem } from "./http";
import type { Reply } from "./types";

const VerifyControl = z.strictObject({
  identity: z.string().min(1).max(320),
  status: z.enum(["SUCCESS", "FAILED", "PENDING", "TEMPORARY_FAILURE"]).default("SUCCESS"),
});

export function applyIdentityControl(state: SandboxState, method: string, path: string, body: Buffer): Reply {
  if (path === "/_sandbox/identities") {
    return method === "GET" ? { status: 200, body: state.identities.list() } : problem(405, "Method not allowed", `${method} is not allowed on ${path}`);
  }
  if (method !== "POST") return problem(405, "Method not allowed", `${method} is not allowed on ${path}`);
  const parsed = VerifyControl.safeParse(parseJson(body));
  if (!parsed.success) {
    return problem(422, "Validation failed", "invalid identity control", parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
  }
  const changed = state.identities.setVerification(parsed.data.identity, parsed.data.status);
  if (changed === 0) return problem(404, "Not found", `no SES identity or Resend domain named ${parsed.data.identity}`);
  return { status: 200, body: { identity: parsed.data.identity, status: parsed.data.status, changed } };
}
