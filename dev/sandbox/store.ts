/**
 * In-memory record of everything the sandbox "sent". A test run pushes 100k+ messages through it, so reads
 * that tests poll (by batch id, by address) go through indexes and per-batch counters kept on write instead
 * of scanning the whole list.
 */
import type { MessageFilter, Provider, SandboxMessage } from "./types";

export interface MessageCount {
  total: number;
  /** Distinct recipients: recipient id when tagged, else the address. */
  distinctRecipients: number;
  byProvider: Record<Provider, number>;
}

interface Counter {
  total: number;
  recipients: Set<string>;
  byProvider: Record<Provider, number>;
}

const newCounter = (): Counter => ({ total: 0, recipients: new Set(), byProvider: { ses: 0, resend: 0, telnyx: 0 } });

export class MessageStore {
  private all: SandboxMessage[] = [];
  private byBatch = new Map<string, SandboxMessage[]>();
  private byTo = new Map<string, SandboxMessage[]>();
  private batchCounters = new Map<string, Counter>();
  private global = newCounter();

  add(m: SandboxMessage): void {
    this.all.push(m);
    push(this.byTo, m.to, m);
    const recipientKey = m.recipientId !== undefined ? `${m.batchId ?? ""}:${m.recipientId}` : `to:${m.to}`;
    count(this.global, m.provider, recipientKey);
    if (m.batchId !== undefined) {
      push(this.byBatch, m.batchId, m);
      let c = this.batchCounters.get(m.batchId);
      if (!c) this.batchCounters.set(m.batchId, (c = newCounter()));
      count(c, m.provider, recipientKey);
    }
  }

  /** Matching messages in arrival order. Without `limit`, all of them. */
  list(f: MessageFilter = {}): { data: SandboxMessage[]; total: number } {
    // Start from the narrowest index, then filter the rest in one pass.
    let base: SandboxMessage[];
    if (f.batchId !== undefined) base = this.byBatch.get(f.batchId) ?? [];
    else if (f.to !== undefined) base = this.byTo.get(f.to) ?? [];
    else base = this.all;
    const rest = base.filter(
      (m) =>
        (f.provider === undefined || m.provider === f.provider) &&
        (f.to === undefined || m.to === f.to) &&
        (f.recipientId === undefined || m.recipientId === f.recipientId),
    );
    const offset = f.offset ?? 0;
    const data = f.limit === undefined ? rest.slice(offset) : rest.slice(offset, offset + f.limit);
    return { data, total: rest.length };
  }

  count(batchId?: string): MessageCount {
    const c = batchId === undefined ? this.global : (this.batchCounters.get(batchId) ?? newCounter());
    return { total: c.total, distinctRecipients: c.recipients.size, byProvider: { ...c.byProvider } };
  }

  clear(): void {
    this.all = [];
    this.byBatch.clear();
    this.byTo.clear();
    this.batchCounters.clear();
    this.global = newCounter();
  }
}

function push(index: Map<string, SandboxMessage[]>, key: string, m: SandboxMessage): void {
  const list = index.get(key);
  if (list) list.push(m);
  else index.set(key, [m]);
}

function count(c: Counter, provider: Provider, recipientKey: string): void {
  c.total += 1;
  c.byProvider[provider] += 1;
  c.recipients.add(recipientKey);
}
