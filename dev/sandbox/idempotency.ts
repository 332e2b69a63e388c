/**
 * Idempotency-Key bookkeeping the way Resend documents it: a key lives 24 h per API key; the same key with the
 * same body replays the first answer without sending again; a different body is a conflict; a second request
 * while the first is still being processed is a (retryable) conflict. Only successful answers are kept, so a
 * request that failed (throttled, rejected, server error) can be retried with the same key.
 */
import { createHash } from "node:crypto";
import type { Reply } from "./types";

const TTL_MS = 24 * 60 * 60 * 1000;

type Entry = { state: "in_flight"; bodyHash: string; done: Promise<void> } | { state: "done"; bodyHash: string; reply: Reply; at: number };

export type Claim =
  | { kind: "new"; finish(reply: Reply | undefined): void }
  | { kind: "replay"; reply: Reply }
  | { kind: "mismatch"; reply?: Reply }
  | { kind: "in_flight"; done: Promise<void> };

export class IdempotencyStore {
  private entries = new Map<string, Entry>();

  claim(scope: string, key: string, body: Buffer): Claim {
    const id = `${scope}\n${key}`;
    const bodyHash = createHash("sha256").update(body).digest("base64");
    const now = Date.now();
    const existing = this.entries.get(id);
    if (existing?.state === "done" && now - existing.at < TTL_MS) {
      return existing.bodyHash === bodyHash ? { kind: "replay", reply: existing.reply } : { kind: "mismatch", reply: existing.reply };
    }
    if (existing?.state === "in_flight") {
      return existing.bodyHash === bodyHash ? { kind: "in_flight", done: existing.done } : { kind: "mismatch" };
    }
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    this.entries.set(id, { state: "in_flight", bodyHash, done });
    return {
      kind: "new",
      finish: (reply) => {
        // Failed requests leave no trace, so a retry with the same key is processed afresh.
        if (reply && reply.status < 300) this.entries.set(id, { state: "done", bodyHash, reply, at: Date.now() });
        else this.entries.delete(id);
        release();
      },
    };
  }

  clear(): void {
    this.entries.clear();
  }
}
