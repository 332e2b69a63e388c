/**
 * Windowed planning (fairness, DESIGN §5.9): how many recipients of one batch may sit in the SENDS stream
 * (published, not yet finished) at once. The planner publishes only what the batch's buckets can send in the
 * next `seconds`, never less than `minChunks` chunks, never more than `maxChunks`, and the consumers'
 * reconciler tops the window up as it drains (consumers/jobs/reconcile.ts). So a million-recipient batch
 * holds one window of chunks in the FIFO sender durable, not a million recipients' worth, and a batch
 * started later is planned at once and waits behind at most one window per active batch.
 *
 * Trade-off: a batch's own throughput needs the top-up to keep up (it runs every `RECONCILE_INTERVAL_MS`);
 * the window (5 s of sending by default) is far longer than that interval, so a batch never starves itself.
 * Pure: limits in, a number out.
 */
import { ConfigError, PlanWindowEnv } from "../config";
import { recipientsPerSecond, type BatchRate } from "../../core/domain/send-rate";
import { DEFAULT_MANAGED_LIMITS, parseManagedLimits, type ManagedLimits, type Region } from "../ratelimit/limits";
import { CHUNK_SIZE } from "./chunking";

export interface PlanWindowConfig {
  seconds: number;
  minChunks: number;
  maxChunks: number;
  limits: ManagedLimits;
}

export { recipientsPerSecond, type BatchRate };

/** The window of one batch, in recipients: a whole number of chunks. */
export function windowRecipients(b: BatchRate, region: Region, cfg: PlanWindowConfig): number {
  const size = CHUNK_SIZE[b.provider];
  const wanted = Math.ceil((recipientsPerSecond(b, region, cfg.limits) * cfg.seconds) / size);
  const chunks = Math.max(cfg.minChunks, Math.min(cfg.maxChunks, Number.isFinite(wanted) ? wanted : cfg.maxChunks));
  return chunks * size;
}

export function parsePlanWindow(env: Record<string, string | undefined>): PlanWindowConfig {
  const res = PlanWindowEnv.safeParse(env);
  if (!res.success) throw new ConfigError(`invalid plan window configuration: ${res.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { seconds: res.data.PLAN_WINDOW_SECONDS, minChunks: res.data.PLAN_WINDOW_MIN_CHUNKS, maxChunks: Math.max(res.data.PLAN_WINDOW_MIN_CHUNKS, res.data.PLAN_WINDOW_MAX_CHUNKS), limits: parseManagedLimits(env) };
}

let fromEnv: PlanWindowConfig | undefined;
/** Parsed from `process.env` once (the same variables main.ts validates for the token buckets). */
export function planWindowFromEnv(): PlanWindowConfig {
  return (fromEnv ??= parsePlanWindow(process.env));
}

export const DEFAULT_PLAN_WINDOW: PlanWindowConfig = { seconds: 5, minChunks: 4, maxChunks: 200, limits: DEFAULT_MANAGED_LIMITS };
