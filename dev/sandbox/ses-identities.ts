/**
 * Amazon SES v2 email identities as AWS serves them (REST-JSON, SigV4 verified like SendEmail):
 * `CreateEmailIdentity` (POST /v2/email/identities), `GetEmailIdentity` (GET /v2/email/identities/{id}),
 * `DeleteEmailIdentity` (DELETE …/{id}) and `PutEmailIdentityMailFromAttributes` (PUT …/{id}/mail-from).
 * Domain identities get three Easy DKIM tokens (`<token>._domainkey.<domain>` CNAME
 * `<token>.dkim.amazonses.com`); errors carry the SDK's exception names (AlreadyExistsException,
 * NotFoundException, BadRequestException) so `@aws-sdk/client-sesv2` raises the same classes it would in AWS.
 */
import { z } from "zod";
import type { SandboxState } from "./flow";
import { parseJson } from "./http";
import type { SesIdentity } from "./identities";
import { sesError } from "./ses";
import { verifySigV4, type SignedRequest } from "./sigv4";
import type { Reply } from "./types";

const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const EMAIL_RE = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

const CreateInput = z.looseObject({
  EmailIdentity: z.string(),
  Tags: z.array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) })).max(50).optional(),
  DkimSigningAttributes: z.unknown().optional(),
  ConfigurationSetName: z.string().optional(),
});
const MailFromInput = z.looseObject({
  MailFromDomain: z.string().optional(),
  BehaviorOnMxFailure: z.enum(["USE_DEFAULT_VALUE", "REJECT_MESSAGE"]).optional(),
});

const epoch = (d: Date) => d.getTime() / 1000;

function dkimAttributes(row: SesIdentity) {
  if (row.type === "EMAIL_ADDRESS") return { SigningEnabled: false, Status: "NOT_STARTED" as const, Tokens: [] };
  return {
    SigningEnabled: true,
    Status: row.status,
    Tokens: row.tokens,
    SigningAttributesOrigin: "AWS_SES",
    CurrentSigningKeyLength: "RSA_2048_BIT",
    NextSigningKeyLength: "RSA_2048_BIT",
    LastKeyGenerationTimestamp: epoch(row.createdAt),
  };
}

function getReply(row: SesIdentity): Reply {
  return {
    status: 200,
    body: {
      IdentityType: row.type,
      FeedbackForwardingStatus: true,
      VerifiedForSendingStatus: row.status === "SUCCESS",
      VerificationStatus: row.status,
      VerificationInfo: {
        ...(row.lastCheckedAt ? { LastCheckedTimestamp: epoch(row.lastCheckedAt) } : {}),
        ...(row.lastSuccessAt ? { LastSuccessTimestamp: epoch(row.lastSuccessAt) } : {}),
        ...(row.status === "FAILED" ? { ErrorType: "HOST_NOT_FOUND" } : {}),
      },
      DkimAttributes: dkimAttributes(row),
      ...(row.mailFrom
        ? {
            MailFromAttributes: {
              MailFromDomain: row.mailFrom.domain,
              // The MX is checked together with the identity here; AWS checks it on its own schedule.
              MailFromDomainStatus: row.status === "SUCCESS" ? "SUCCESS" : row.status === "FAILED" ? "FAILED" : "PENDING",
              BehaviorOnMxFailure: row.mailFrom.behaviorOnMxFailure,
            },
          }
        : {}),
      Policies: {},
      Tags: row.tags,
    },
  };
}

/** `/v2/email/identities[/{id}[/mail-from]]` → the operation, or undefined when the path is not one of them. */
export function sesIdentityOperation(method: string, path: string): { op: string; identity?: string } | undefined {
  const m = /^\/v2\/email\/identities(?:\/([^/]+)(\/mail-from)?)?\/?$/.exec(path);
  if (!m) return undefined;
  let identity: string | undefined;
  try {
    identity = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
  } catch {
    identity = m[1];
  }
  if (identity === undefined) return method === "POST" ? { op: "create" } : { op: "unsupported" };
  if (m[2]) return method === "PUT" ? { op: "mail-from", identity } : { op: "unsupported", identity };
  if (method === "GET") return { op: "get", identity };
  if (method === "DELETE") return { op: "delete", identity };
  return { op: "unsupported", identity };
}

export async function handleSesIdentity(state: SandboxState, req: SignedRequest, op: { op: string; identity?: string }): Promise<Reply> {
  const sig = await verifySigV4(req, (id) => state.control.sesKey(id), "ses");
  if (!sig.ok) return sesError(sig.status, sig.type, sig.message);
  const account = sig.accessKeyId;
  const store = state.identities;

  switch (op.op) {
    case "create": {
      const json = parseJson(req.body);
      if (json === undefined) return sesError(400, "SerializationException", "Start of structure or map found where not expected.");
      const parsed = CreateInput.safeParse(json);
      if (!parsed.success) return sesError(400, "BadRequestException", "1 validation error detected: Value null at 'emailIdentity' failed to satisfy constraint: Member must not be null");
      const identity = parsed.data.EmailIdentity.trim();
      if (!DOMAIN_RE.test(identity) && !EMAIL_RE.test(identity)) return sesError(400, "BadRequestException", `Invalid email identity: ${identity}`);
      if (parsed.data.DkimSigningAttributes !== undefined) return sesError(400, "BadRequestException", "BYODKIM is not supported by the BatchSender sandbox.");
      if (store.getSes(account, identity)) return sesError(400, "AlreadyExistsException", `Email identity ${identity} already exist.`);
      const row = store.createSes(account, identity, parsed.data.Tags ?? []);
      return { status: 200, body: { IdentityType: row.type, VerifiedForSendingStatus: false, DkimAttributes: dkimAttributes(row) } };
    }
    case "get": {
      const row = store.getSes(account, op.identity!);
      return row ? getReply(row) : sesError(404, "NotFoundException", `Email identity ${op.identity} does not exist.`);
    }
    case "delete":
      return store.deleteSes(account, op.identity!) ? { status: 200, body: {} } : sesError(404, "NotFoundException", `Email identity ${op.identity} does not exist.`);
    case "mail-from": {
      const row = store.getSes(account, op.identity!);
      if (!row) return sesError(404, "NotFoundException", `Email identity ${op.identity} does not exist.`);
      const parsed = MailFromInput.safeParse(parseJson(req.body) ?? {});
      if (!parsed.success) return sesError(400, "BadRequestException", "Invalid BehaviorOnMxFailure.");
      const domain = parsed.data.MailFromDomain?.trim().toLowerCase();
      if (!domain) {
        delete row.mailFrom;
        return { status: 200, body: {} };
      }
      // AWS: the MAIL FROM domain must be a subdomain of the verified identity's domain.
      if (row.type !== "DOMAIN" || !domain.endsWith(`.${row.identity.toLowerCase()}`) || !DOMAIN_RE.test(domain)) {
        return sesError(400, "BadRequestException", `Invalid MAIL FROM domain ${domain}: it must be a subdomain of ${row.identity}.`);
      }
      row.mailFrom = { domain, behaviorOnMxFailure: parsed.data.BehaviorOnMxFailure ?? "USE_DEFAULT_VALUE" };
      return { status: 200, body: {} };
    }
    default:
      return sesError(404, "UnknownOperationException", "");
  }
}
