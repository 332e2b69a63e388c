/** The public shape of a batch (Stripe-like), the only way a batch row leaves the API. */
import type { Batch } from "../../../core/db/schema";
import { finishedCount } from "./batch-eta";

export interface BatchView {
  id: string;
  object: "batch";
  name: string;
  channel: Batch["channel"];
  status: Batch["status"];
  sendConfigId: string;
  region: string;
  dryRun: boolean;
  scheduledAt: string | null;
  counts: {
    total: number;
    queued: number;
    sent: number;
    failed: number;
    suppressed: number;
    cancelled: number;
    delivered: number;
    bounced: number;
    complained: number;
  };
  /** Share of recipients finished (sent, failed, suppressed or cancelled), 0–1. */
  progress: number;
  createdAt: string;
  queuedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toBatchView(b: Batch): BatchView {
  return {
    id: b.id,
    object: "batch",
    name: b.name,
    channel: b.channel,
    status: b.status,
    sendConfigId: b.sendConfigId,
    region: b.region,
    dryRun: b.dryRun,
    scheduledAt: iso(b.scheduledAt),
    counts: {
      total: b.total,
      queued: b.queued,
      sent: b.sent,
      failed: b.failed,
      suppressed: b.suppressed,
      cancelled: b.cancelled,
      delivered: b.delivered,
      bounced: b.bounced,
      complained: b.complained,
    },
    // Four decimals: enough for a progress bar, stable in JSON. An empty batch has nothing left to do.
    progress: b.total > 0 ? Math.min(1, Math.round((finishedCount(b) / b.total) * 10_000) / 10_000) : 0,
    createdAt: b.createdAt.toISOString(),
    queuedAt: iso(b.queuedAt),
    startedAt: iso(b.startedAt),
    completedAt: iso(b.completedAt),
  };
}
