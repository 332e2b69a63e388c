/**
 * Sending-domain identities on the managed provider accounts, behind one small interface the domain verbs use:
 * SES v2 (`CreateEmailIdentity`, `PutEmailIdentityMailFromAttributes`, `GetEmailIdentity`,
 * `DeleteEmailIdentity`, SigV4-signed) and Resend's domains API. Each answer is mapped to our record list and
 * our three statuses; a provider failure is an `unavailable` problem (a retry can help), never a 500.
 */
import { ConfigError } from "../../core/domain/errors";
import { AppError } from "../../core/domain/problem";
import { dmarcSuggestion, mailFromDomainOf, sesDnsRecords, type DnsRecord, type DomainStatus } from "../../core/domain/sending-domains";
import type { EdgeConfig } from "../env";
import { awsJsonClient, type AwsJsonResponse } from "./aws-json-client";

export interface ProviderDomain {
  /** The provider's handle for later checks: the SES identity name, the Resend domain id. */
  ref: string;
  status: DomainStatus;
  records: DnsRecord[];
  mailFromDomain?: string;
}

export interface DomainIdentities {
  create(domain: string): Promise<ProviderDomain>;
  check(ref: string, domain: string): Promise<ProviderDomain>;
  remove(ref: string): Promise<void>;
}

function unavailable(provider: string, what: string, detail: string): AppError {
  return new AppError("unavailable", `${provider} could not ${what}: ${detail.slice(0, 200)}`, { headers: { "Retry-After": "5" } });
}

export function sesDomainIdentities(opts: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }): DomainIdentities {
  const aws = awsJsonClient({ endpoint: opts.endpoint, region: opts.region, service: "ses", credentials: opts });
  const path = (identity: string) => `/v2/email/identities/${encodeURIComponent(identity)}`;
  const fail = (what: string, r: AwsJsonResponse) => unavailable("SES", what, `${r.status} ${r.errorType ?? ""} ${String(r.json.message ?? "")}`);

  async function get(domain: string): Promise<ProviderDomain> {
    const r = await aws.call("GET", path(domain));
    if (r.status !== 200) throw fail("read the identity", r);
    const dkim = (r.json.DkimAttributes ?? {}) as { Tokens?: string[] };
    const mailFrom = (r.json.MailFromAttributes ?? {}) as { MailFromDomain?: string };
    const v = r.json.VerificationStatus;
    const status: DomainStatus = v === "SUCCESS" && r.json.VerifiedForSendingStatus === true ? "verified" : v === "FAILED" ? "failed" : "pending";
    const mailFromDomain = mailFrom.MailFromDomain ?? mailFromDomainOf(domain);
    return { ref: domain, status, records: sesDnsRecords(domain, dkim.Tokens ?? [], opts.region, mailFromDomain), mailFromDomain };
  }

  return {
    async create(domain) {
      const r = await aws.call("POST", "/v2/email/identities", { EmailIdentity: domain });
      // Already on the account (the same tenant in the other mode, or a retry after a partial failure): reuse it.
      if (r.status !== 200 && r.errorType !== "AlreadyExistsException") throw fail("create the identity", r);
      const m = await aws.call("PUT", `${path(domain)}/mail-from`, { MailFromDomain: mailFromDomainOf(domain), BehaviorOnMxFailure: "USE_DEFAULT_VALUE" });
      if (m.status !== 200) throw fail("set the MAIL FROM domain", m);
      return get(domain);
    },
    check: (_ref, domain) => get(domain),
    async remove(ref) {
      const r = await aws.call("DELETE", path(ref));
      if (r.status !== 200 && r.errorType !== "NotFoundException") throw fail("delete the identity", r);
    },
  };
}

interface ResendRecord {
  record: string;
  name: string;
  type: "MX" | "TXT" | "CNAME";
  value: string;
  priority?: number;
}

export function resendDomainIdentities(opts: { apiUrl: string; apiKey: string }): DomainIdentities {
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${opts.apiUrl.replace(/\/$/, "")}${path}`, {
      method,
      headers: { authorization: `Bearer ${opts.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: res.status, json };
  }
  const fail = (what: string, r: { status: number; json: Record<string, unknown> }) => unavailable("Resend", what, `${r.status} ${String(r.json.name ?? "")} ${String(r.json.message ?? "")}`);

  function toDomain(json: Record<string, unknown>): ProviderDomain {
    const name = String(json.name);
    const fq = (n: string) => (n === "@" || n === "" ? name : n.endsWith(name) ? n : `${n}.${name}`);
    const records = ((json.records ?? []) as ResendRecord[]).map(
      (r): DnsRecord => ({
        purpose: r.record === "DKIM" ? "dkim" : r.type === "MX" ? "mail_from_mx" : "mail_from_spf",
        type: r.type,
        name: fq(r.name),
        value: r.value.replace(/^"|"$/g, "").replace(/\.$/, ""),
        ...(r.priority !== undefined ? { priority: r.priority } : {}),
        required: true,
      }),
    );
    const s = json.status;
    const status: DomainStatus = s === "verified" ? "verified" : s === "failed" ? "failed" : "pending";
    const mx = records.find((r) => r.purpose === "mail_from_mx");
    return { ref: String(json.id), status, records: [...records, dmarcSuggestion(name)], mailFromDomain: mx?.name };
  }

  return {
    async create(domain) {
      const r = await call("POST", "/domains", { name: domain });
      if (r.status === 200 || r.status === 201) return toDomain(r.json);
      // Registered already on the account (our other mode, or a retry): find it by name.
      const list = await call("GET", "/domains");
      const found = ((list.json.data ?? []) as { id: string; name: string }[]).find((d) => d.name === domain);
      if (!found) throw fail("create the domain", r);
      const got = await call("GET", `/domains/${encodeURIComponent(found.id)}`);
      if (got.status !== 200) throw fail("read the domain", got);
      return toDomain(got.json);
    },
    async check(ref) {
      const v = await call("POST", `/domains/${encodeURIComponent(ref)}/verify`);
      if (v.status !== 200) throw fail("start verification", v);
      const got = await call("GET", `/domains/${encodeURIComponent(ref)}`);
      if (got.status !== 200) throw fail("read the domain", got);
      return toDomain(got.json);
    },
    async remove(ref) {
      const r = await call("DELETE", `/domains/${encodeURIComponent(ref)}`);
      if (r.status !== 200 && r.status !== 404) throw fail("delete the domain", r);
    },
  };
}

/** A network failure (refused, reset, timeout) is the provider being unavailable too: a retry can help. */
function guarded(provider: string, inner: DomainIdentities): DomainIdentities {
  const wrap =
    <A extends unknown[], R>(what: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await f(...a);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw unavailable(provider, what, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
    };
  return { create: wrap("create the identity", inner.create), check: wrap("check the identity", inner.check), remove: wrap("remove the identity", inner.remove) };
}

/** The managed account's identities for `provider`, from the Worker's config (ConfigError when unset). */
export function domainIdentitiesFor(config: EdgeConfig, provider: "ses" | "resend"): DomainIdentities {
  if (provider === "resend") {
    if (!config.RESEND_API_KEY) throw new ConfigError("the Worker is misconfigured: RESEND_API_KEY (required by the domains routes)");
    return guarded("Resend", resendDomainIdentities({ apiUrl: config.RESEND_API_URL, apiKey: config.RESEND_API_KEY }));
  }
  const { SES_REGION: region, SES_ACCESS_KEY_ID: accessKeyId, SES_SECRET_ACCESS_KEY: secretAccessKey } = config;
  if (!region || !accessKeyId || !secretAccessKey) {
    throw new ConfigError("the Worker is misconfigured: SES_REGION, SES_ACCESS_KEY_ID, SES_SECRET_ACCESS_KEY (required by the domains routes)");
  }
  const endpoint = config.SES_ENDPOINT ?? `https://email.${region}.amazonaws.com`;
  return guarded("SES", sesDomainIdentities({ endpoint, region, accessKeyId, secretAccessKey }));
}
