/**
 * A per-process view of batch statuses, at most `maxAgeMs` old, shared by every chunk of a batch in this
 * process. Senders consult it before each provider call, so a pause or cancel stops new calls within about
 * `maxAgeMs` plus one call, without a status query per call.
 */
import type { Db } from "./recipient-store";

export class BatchStatusCache {
  private readonly entries = new Map<string, { status: string; at: number; pending?: Promise<string | undefined> }>();

  constructor(
    private readonly db: Db,
    private readonly maxAgeMs = 500,
  ) {}

  async get(batchId: string): Promise<string | undefined> {
    const e = this.entries.get(batchId);
    const now = Date.now();
    if (e && now - e.at < this.maxAgeMs) return e.status;
    if (e?.pending) return e.pending;
    const pending = this.db
      .query<{ status: string }>({ name: "bs_batch_status", text: "select status from batches where id = $1", values: [batchId] })
      .then((r) => {
        const status = r.rows[0]?.status;
        if (this.entries.size > 10_000) this.entries.clear();
        this.entries.set(batchId, { status: status ?? "missing", at: Date.now() });
        return status;
      })
      .finally(() => {
        const cur = this.entries.get(batchId);
        if (cur?.pending) delete cur.pending;
      });
    this.entries.set(batchId, { status: e?.status ?? "unknown", at: e?.at ?? 0, pending });
    return pending;
  }
}
