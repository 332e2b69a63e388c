/**
 * The part of a send every provider shares, after auth, rate limit and validation: injected faults, the
 * idempotency check, simulated latency, then recording. Faults come before recording, so a failed call
 * leaves no message behind; the idempotency key is held during the latency, so a duplicate arriving while
 * the first call is still "at the provider" sees it in flight.
 */
import type { IdempotencyStore } from "./idempotency";
import type { IdentityStore } from "./identities";
import type { SandboxControl } from "./control";
import type { MessageStore } from "./store";
import { sleep } from "./http";
import type { FaultSpec, Provider, Reply, SandboxMessage } from "./types";

export interface SandboxState {
  store: MessageStore;
  control: SandboxControl;
  idempotency: IdempotencyStore;
  /** SES identities and Resend domains (identities.ts). */
  identities: IdentityStore;
}

export interface SendPlan {
  provider: Provider;
  /** Every recipient address of the call: faults match on them. */
  addresses: string[];
  /** The provider's answer for an injected fault (timeout is handled here). */
  faultReply(kind: Exclude<FaultSpec["kind"], "timeout">, address: string | undefined): Reply;
  idempotency?: {
    scope: string;
    key: string;
    body: Buffer;
    /** Same key, different body. */
    onMismatch(original: Reply | undefined): Reply;
    /** Same key still in flight; unset = wait for it and replay its answer. */
    onInFlight?(): Reply;
  };
  /** Builds the messages and the success answer; called once, only when the call is accepted. */
  accept(): { messages: Omit<SandboxMessage, "callStartedAtMs">[]; reply: Reply };
}

export async function runSend(state: SandboxState, plan: SendPlan): Promise<Reply> {
  const callStartedAtMs = Date.now();
  const fault = state.control.pickFault(plan.provider, plan.addresses);
  if (fault?.kind === "timeout") return { status: 0, hold: true };
  if (fault) return plan.faultReply(fault.kind, fault.to);

  const idem = plan.idempotency;
  let finish: ((reply: Reply | undefined) => void) | undefined;
  if (idem) {
    for (;;) {
      const claim = state.idempotency.claim(idem.scope, idem.key, idem.body);
      if (claim.kind === "replay") return claim.reply;
      if (claim.kind === "mismatch") return idem.onMismatch(claim.reply);
      if (claim.kind === "in_flight") {
        if (idem.onInFlight) return idem.onInFlight();
        await claim.done;
        continue;
      }
      finish = claim.finish;
      break;
    }
  }
  let reply: Reply | undefined;
  try {
    if (state.control.latencyMs > 0) await sleep(state.control.latencyMs);
    const accepted = plan.accept();
    for (const m of accepted.messages) state.store.add({ ...m, callStartedAtMs });
    reply = accepted.reply;
    return reply;
  } finally {
    finish?.(reply);
  }
}

/** Tag list (SES `{Name,Value}` / Resend `{name,value}`) → the ids BatchSender puts there. */
export function tagIds(tags: { name: string; value: string }[] | undefined): Pick<SandboxMessage, "batchId" | "recipientId" | "tenantId"> {
  const get = (n: string) => tags?.find((t) => t.name === n)?.value;
  return { batchId: get("batch_id"), recipientId: get("recipient_id"), tenantId: get("tenant_id") };
}

/** `${batchId}:${recipientId}` idempotency keys (Telnyx has no tags, so this is where its ids come from). */
export function idsFromIdempotencyKey(key: string | undefined): Pick<SandboxMessage, "batchId" | "recipientId"> {
  const m = key ? /^([^:]+):([^:]+)$/.exec(key) : null;
  return m ? { batchId: m[1], recipientId: m[2] } : {};
}

export function timestamps(): Pick<SandboxMessage, "receivedAt" | "receivedAtMs"> {
  const now = Date.now();
  return { receivedAt: new Date(now).toISOString(), receivedAtMs: now };
}
