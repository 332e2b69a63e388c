/**
 * Resend's domains API (`POST/GET /domains`, `GET/DELETE /domains/{id}`, `POST /domains/{id}/verify`) with
 * Resend's record shapes: `{record: SPF|DKIM, name, type: MX|TXT|CNAME, ttl: "Auto", status, value, priority?}`,
 * names relative to the domain (`send`, `<token>._domainkey`). Verification is asynchronous at Resend: `verify`
 * only moves the domain to `pending`; the sandbox control decides the outcome (identities.ts).
 */
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import type { SandboxState } from "./flow";
import { bearerToken, parseJson } from "./http";
import type { ResendDomain } from "./identities";
import { resendError } from "./resend";
import type { Reply } from "./types";

const REGIONS = ["us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1"] as const;
const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const CreateDomain = z.looseObject({ name: z.string(), region: z.enum(REGIONS).optional() });

function records(d: ResendDomain) {
  const status = d.status;
  return [
    { record: "SPF", name: "send", type: "MX", ttl: "Auto", status, value: `feedback-smtp.${d.region}.amazonses.com`, priority: 10 },
    { record: "SPF", name: "send", type: "TXT", ttl: "Auto", status, value: '"v=spf1 include:amazonses.com ~all"' },
    ...d.tokens.map((t) => ({ record: "DKIM", name: `${t}._domainkey`, type: "CNAME", ttl: "Auto", status, value: `${t}.dkim.amazonses.com.` })),
  ];
}

const summary = (d: ResendDomain) => ({ id: d.id, name: d.name, status: d.status, created_at: d.createdAt.toISOString(), region: d.region });

export function isResendDomainsPath(path: string): boolean {
  return /^\/domains(\/[^/]+(\/verify)?)?\/?$/.test(path);
}

export function handleResendDomains(state: SandboxState, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Reply {
  if (!headers.authorization) return resendError(401, "missing_api_key", "Missing API key in the authorization header.");
  const account = bearerToken(headers.authorization);
  if (!account || !state.control.acceptsApiKey("resend", account)) return resendError(403, "invalid_api_key", "API key is invalid.");
  const store = state.identities;
  const [, , id, verify] = path.replace(/\/$/, "").split("/");

  if (id === undefined) {
    if (method === "GET") return { status: 200, body: { object: "list", has_more: false, data: store.listResend(account).map(summary) } };
    if (method !== "POST") return resendError(405, "method_not_allowed", "Method not allowed");
    const json = parseJson(body);
    if (json === undefined) return resendError(422, "validation_error", "The request body is not valid JSON.");
    const parsed = CreateDomain.safeParse(json);
    if (!parsed.success) {
      const field = String(parsed.error.issues[0]?.path[0] ?? "name");
      return (json as Record<string, unknown> | null)?.[field] === undefined
        ? resendError(422, "missing_required_field", `Missing \`${field}\` field.`)
        : resendError(422, "validation_error", `Invalid \`${field}\` field.`);
    }
    const name = parsed.data.name.trim().toLowerCase();
    if (!DOMAIN_RE.test(name)) return resendError(422, "validation_error", "Invalid `name` field. The domain name is not valid.");
    if (store.findResendByName(account, name)) return resendError(403, "validation_error", `The domain ${name} has been registered already.`);
    const d = store.createResend(account, name, parsed.data.region ?? "us-east-1");
    return { status: 200, body: { ...summary(d), records: records(d) } };
  }

  const d = store.getResend(account, id);
  if (!d) return resendError(404, "not_found", "Domain not found");
  if (verify) {
    if (method !== "POST") return resendError(405, "method_not_allowed", "Method not allowed");
    // Resend starts an asynchronous check: a domain never checked (or failed) is pending until DNS answers.
    if (d.status === "not_started" || d.status === "failed" || d.status === "temporary_failure") d.status = "pending";
    return { status: 200, body: { object: "domain", id: d.id } };
  }
  if (method === "GET") return { status: 200, body: { object: "domain", ...summary(d), records: records(d) } };
  if (method === "DELETE") {
    store.deleteResend(account, id);
    return { status: 200, body: { object: "domain", id: d.id, deleted: true } };
  }
  return resendError(405, "method_not_allowed", "Method not allowed");
}
