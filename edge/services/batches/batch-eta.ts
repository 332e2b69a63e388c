/**
 * A batch's ETA: what is left divided by the recipients per second its buckets allow (core/domain/send-rate.ts,
 * the rates the senders are paced by). Only a batch that is sending (queued, processing) has one; a draft,
 * scheduled, paused or finished batch, and a dry run (no provider call, no pacing), answer null.
 *
 * The rates are the default managed limits (the consumers may override them per deployment) and assume the
 * batch has its buckets to itself: other batches on the same provider account, send config or tenant share
 * them, so the ETA is the earliest the batch can finish, not a promise.
 */
import { DEFAULT_MANAGED_LIMITS, recipientsPerSecond, type BatchRate, type ManagedLimits } from "../../../core/domain/send-rate";
import type { Batch } from "../../../core/db/schema";
import type { Region } from "../../../core/contract";

export interface BatchEta {
  /** Recipients not yet in a terminal state. */
  remaining: number;
  /** Recipients per second this batch's buckets allow. */
  ratePerSecond: number;
  seconds: number;
  /** When the batch finishes at that rate. */
  at: string;
}

const SENDING = new Set<Batch["status"]>(["queued", "processing"]);

/** Recipients that are finished: sent (and later facts about them), failed, suppressed or cancelled. */
export function finishedCount(b: Pick<Batch, "sent" | "failed" | "suppressed" | "cancelled">): number {
  return b.sent + b.failed + b.suppressed + b.cancelled;
}

export function batchEta(
  b: Batch,
  config: Omit<BatchRate, "dryRun">,
  now: Date,
  limits: ManagedLimits = DEFAULT_MANAGED_LIMITS,
): BatchEta | null {
  if (!SENDING.has(b.status) || b.dryRun) return null;
  const rate = recipientsPerSecond({ ...config, dryRun: false }, b.region as Region, limits);
  if (!(rate > 0) || !Number.isFinite(rate)) return null;
  const remaining = Math.max(0, b.total - finishedCount(b));
  const seconds = Math.ceil(remaining / rate);
  return { remaining, ratePerSecond: rate, seconds, at: new Date(now.getTime() + seconds * 1000).toISOString() };
}
