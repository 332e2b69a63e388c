/**
 * The sandbox's sending identities: SES v2 email identities (per access key, as an AWS account holds them)
 * and Resend domains (per API key). Verification is a DNS check at the real providers; here it is flipped by
 * `POST /_sandbox/identities/verify` (tests, `npm run admin -- domain verify --force`), so every identity
 * starts PENDING / `not_started` exactly like a fresh one whose records are not published yet.
 */
import { randomBytes, randomUUID } from "node:crypto";

export type SesVerification = "PENDING" | "SUCCESS" | "FAILED" | "TEMPORARY_FAILURE" | "NOT_STARTED";
export type ResendDomainStatus = "not_started" | "pending" | "verified" | "failed" | "temporary_failure";

export interface SesIdentity {
  account: string;
  identity: string;
  type: "DOMAIN" | "EMAIL_ADDRESS";
  status: SesVerification;
  tokens: string[];
  createdAt: Date;
  lastCheckedAt?: Date;
  lastSuccessAt?: Date;
  mailFrom?: { domain: string; behaviorOnMxFailure: string };
  tags: { Key: string; Value: string }[];
}

export interface ResendDomain {
  account: string;
  id: string;
  name: string;
  region: string;
  status: ResendDomainStatus;
  /** Published records, fixed at creation (three DKIM CNAMEs, the `send` MX and SPF TXT). */
  tokens: string[];
  createdAt: Date;
}

/** Easy DKIM tokens: 32 lower-case base32-ish characters, like SES's. */
function dkimToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return [...randomBytes(32)].map((b) => alphabet[b % 32]).join("");
}

export const STATUS_TO_RESEND: Record<SesVerification, ResendDomainStatus> = {
  PENDING: "pending",
  SUCCESS: "verified",
  FAILED: "failed",
  TEMPORARY_FAILURE: "temporary_failure",
  NOT_STARTED: "not_started",
};

export class IdentityStore {
  private ses = new Map<string, SesIdentity>();
  private resend = new Map<string, ResendDomain>();

  private sesKey(account: string, identity: string) {
    return `${account}\n${identity.toLowerCase()}`;
  }

  getSes(account: string, identity: string): SesIdentity | undefined {
    return this.ses.get(this.sesKey(account, identity));
  }

  createSes(account: string, identity: string, tags: SesIdentity["tags"]): SesIdentity {
    const type = identity.includes("@") ? "EMAIL_ADDRESS" : "DOMAIN";
    const row: SesIdentity = {
      account,
      identity,
      type,
      status: "PENDING",
      tokens: type === "DOMAIN" ? [dkimToken(), dkimToken(), dkimToken()] : [],
      createdAt: new Date(),
      tags,
    };
    this.ses.set(this.sesKey(account, identity), row);
    return row;
  }

  deleteSes(account: string, identity: string): boolean {
    return this.ses.delete(this.sesKey(account, identity));
  }

  /** Whether `address`'s identity (the address itself, or its domain) is verified on `account`. */
  sesVerifiedFor(account: string, address: string): boolean {
    const domain = address.split("@").pop() ?? "";
    return [address, domain].some((id) => this.getSes(account, id)?.status === "SUCCESS");
  }

  createResend(account: string, name: string, region: string): ResendDomain {
    const row: ResendDomain = { account, id: randomUUID(), name, region, status: "not_started", tokens: [dkimToken(), dkimToken(), dkimToken()], createdAt: new Date() };
    this.resend.set(row.id, row);
    return row;
  }

  getResend(account: string, id: string): ResendDomain | undefined {
    const row = this.resend.get(id);
    return row?.account === account ? row : undefined;
  }

  listResend(account: string): ResendDomain[] {
    return [...this.resend.values()].filter((d) => d.account === account);
  }

  findResendByName(account: string, name: string): ResendDomain | undefined {
    return this.listResend(account).find((d) => d.name === name.toLowerCase());
  }

  deleteResend(account: string, id: string): boolean {
    return this.getResend(account, id) ? this.resend.delete(id) : false;
  }

  /**
   * The control: what a DNS check would conclude once the records are (or are not) published. Applies to every
   * identity of that name on every account; returns how many changed.
   */
  setVerification(name: string, status: SesVerification): number {
    const target = name.toLowerCase();
    let n = 0;
    const now = new Date();
    for (const row of this.ses.values()) {
      if (row.identity.toLowerCase() !== target) continue;
      row.status = status;
      row.lastCheckedAt = now;
      if (status === "SUCCESS") row.lastSuccessAt = now;
      n++;
    }
    for (const row of this.resend.values()) {
      if (row.name !== target) continue;
      row.status = STATUS_TO_RESEND[status];
      n++;
    }
    return n;
  }

  list() {
    return {
      ses: [...this.ses.values()].map((r) => ({ account: r.account, identity: r.identity, status: r.status })),
      resend: [...this.resend.values()].map((r) => ({ account: r.account, id: r.id, name: r.name, status: r.status })),
    };
  }

  clear(): void {
    this.ses.clear();
    this.resend.clear();
  }
}
