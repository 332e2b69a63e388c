/**
 * The batch and recipient state machines (DESIGN §3) in one place, used by the edge's guarded SQL
 * transitions and by the consumers alike. States come from the Postgres enums in core/db/schema.ts, so a new
 * state cannot be added in one place and forgotten in the other.
 *
 * Transitions are enforced in SQL (`UPDATE … WHERE status IN (…)`), never by reading a status and deciding
 * in code: `statusIn()` renders the guard from the table below so the SQL and this table cannot drift.
 *
 * Completion rule: a batch is complete exactly when `sent + failed + suppressed + cancelled = total`
 * (`delivered`, `bounced`, `complained`, `opened`, `clicked` are later facts about sent recipients and do not count twice). The
 * guards use `>=` so a counter that drifted past `total` still completes; the consumers' reconciler recounts
 * such batches (consumers/jobs/reconcile.ts).
 *
 * Edge-safe: no node:* imports.
 */
import { batchStatusEnum, recipientStatusEnum, type BatchStatus, type RecipientStatus } from "../db/schema";

export const BATCH_STATES: readonly BatchStatus[] = batchStatusEnum.enumValues;
export const RECIPIENT_STATES: readonly RecipientStatus[] = recipientStatusEnum.enumValues;

export type BatchAction =
  | "send"
  | "schedule"
  | "queueDue"
  | "pause"
  | "resume"
  | "cancel"
  | "retry"
  | "deleteDraft"
  | "planStart"
  | "complete";

export interface Transition {
  from: readonly BatchStatus[];
  /** `null`: the row is deleted. */
  to: BatchStatus | null;
}

/** Every allowed batch transition, by the action that performs it. */
export const BATCH_TRANSITIONS = {
  /** POST /send without a future `scheduledAt`. */
  send: { from: ["draft"], to: "queued" },
  /** POST /send with a future `scheduledAt`. */
  schedule: { from: ["draft"], to: "scheduled" },
  /** The scheduler (alarm or cron) queues a scheduled batch that is due. */
  queueDue: { from: ["scheduled"], to: "queued" },
  /** Senders claim nothing from a paused batch; in-flight calls finish. */
  pause: { from: ["queued", "processing"], to: "paused" },
  /** A new plan generation: chunks planned before the pause are dropped by the sender. */
  resume: { from: ["paused"], to: "queued" },
  /** Status flip only; the consumers cancel the remaining rows in bounded steps. */
  cancel: { from: ["draft", "scheduled", "queued", "processing", "paused"], to: "cancelled" },
  /** Failed recipients of a finished batch go back to queued (in bounded pages). */
  retry: { from: ["completed", "failed"], to: "queued" },
  deleteDraft: { from: ["draft"], to: null },
  /** The planner takes a queued batch. */
  planStart: { from: ["queued"], to: "processing" },
  /** Every recipient terminal (the completion rule). */
  complete: { from: ["processing"], to: "completed" },
} as const satisfies Record<BatchAction, Transition>;

/** Batch states no action leaves except `retry` (completed, failed) or none at all (cancelled). */
export const FINISHED_BATCH_STATES = ["completed", "cancelled", "failed"] as const satisfies readonly BatchStatus[];

/** Recipient states that count toward completion or come after a send; nothing moves a row out of them except events and retry. */
export const TERMINAL_RECIPIENT_STATES = [
  "sent",
  "delivered",
  "bounced",
  "complained",
  "opened",
  "clicked",
  "failed",
  "suppressed",
  "cancelled",
] as const satisfies readonly RecipientStatus[];

/** Rows a sender may claim (SQL): queued, or sending whose lease expired (its owner died). */
export function claimableSql(alias?: string): string {
  const p = alias ? `${alias}.` : "";
  return `(${p}status = 'queued' or (${p}status = 'sending' and ${p}lease_until < now()))`;
}

/** Rows that are not terminal yet and count in the batch's `queued` counter. */
export const UNFINISHED_RECIPIENT_STATES = ["queued", "sending"] as const satisfies readonly RecipientStatus[];
/** Rows a cancel turns into `cancelled` (claimed rows finish with their sender). */
export const CANCELLABLE_RECIPIENT_STATES = ["pending", "queued"] as const satisfies readonly RecipientStatus[];

/** Which recipient statuses feed which batch counter (delivered/bounced/complained rows were sent). */
export const COUNTER_OF_RECIPIENT_STATUS: Record<RecipientStatus, "sent" | "failed" | "suppressed" | "cancelled" | "queued" | null> = {
  pending: null,
  queued: "queued",
  sending: "queued",
  sent: "sent",
  delivered: "sent",
  bounced: "sent",
  complained: "sent",
  opened: "sent",
  clicked: "sent",
  failed: "failed",
  suppressed: "suppressed",
  cancelled: "cancelled",
};

export function canTransition(action: BatchAction, from: BatchStatus): boolean {
  return (BATCH_TRANSITIONS[action].from as readonly BatchStatus[]).includes(from);
}

export function isTerminalRecipient(status: RecipientStatus): boolean {
  return (TERMINAL_RECIPIENT_STATES as readonly RecipientStatus[]).includes(status);
}

export interface CompletionCounters {
  total: number;
  sent: number;
  failed: number;
  suppressed: number;
  cancelled: number;
}

/** The completion rule as a predicate: every recipient is terminal. */
export function isBatchDone(c: CompletionCounters | undefined): boolean {
  return !!c && c.sent + c.failed + c.suppressed + c.cancelled >= c.total;
}

/** The completion rule as the SQL fragment the guards use; `alias` qualifies the columns (`b` → `b.sent`). */
export function completionSql(alias?: string): string {
  const p = alias ? `${alias}.` : "";
  return `${p}sent + ${p}failed + ${p}suppressed + ${p}cancelled >= ${p}total`;
}

/** The counters adding up exactly: what the reconciler checks on finished batches. */
export function countersAddUpSql(alias?: string): string {
  const p = alias ? `${alias}.` : "";
  return `${p}sent + ${p}failed + ${p}suppressed + ${p}cancelled = ${p}total`;
}

/**
 * Control calls (pause, resume, cancel, retry) one batch accepts per window; more answer 429 with
 * Retry-After. Each accepted call costs the consumers a plan or a settle, so a loop must not flood them.
 */
export const CONTROL_LIMIT = { calls: 10, windowSeconds: 60 } as const;

/** Rows a control call changes inline, in its own transaction; the consumers do the rest in bounded steps. */
export const CONTROL_INLINE_ROWS = 500;

const STATE = /^[a-z_]+$/;

/**
 * `status in ('a', 'b')` for a list of known states (constants from this module; never user input).
 * `column` may be qualified (`b.status`).
 */
export function statusIn(states: readonly string[], column = "status"): string {
  if (states.length === 0) throw new Error("statusIn needs at least one state");
  for (const s of states) {
    if (!STATE.test(s) || !(BATCH_STATES as readonly string[]).concat(RECIPIENT_STATES).includes(s)) throw new Error(`unknown state ${s}`);
  }
  if (!/^[a-z_.]+$/.test(column)) throw new Error(`bad column ${column}`);
  return `${column} in (${states.map((s) => `'${s}'`).join(", ")})`;
}

/** The SQL guard of one batch action: `status in (<from states>)`. */
export function guardSql(action: BatchAction, column = "status"): string {
  return statusIn(BATCH_TRANSITIONS[action].from, column);
}
