/**
 * Per-provider failure counting for the webhook routes: one structured log line per refused or failed
 * request (Workers Logs / Logpush aggregate them by `provider` and `reason`), plus per-isolate counters that
 * tests and the logs read. Reasons are the verifiers' closed sets (`bad_signature`, `stale`, `replayed`…).
 */
import type { EventProvider } from "../../../core/contract";

// Per-isolate counters (plain data, no I/O object).
const counters = new Map<string, number>();

export function countWebhookFailure(provider: EventProvider, reason: string, err?: unknown): void {
  const key = `${provider}:${reason}`;
  const n = (counters.get(key) ?? 0) + 1;
  counters.set(key, n);
  const line = { msg: "provider webhook refused", provider, reason, count: n, ...(err ? { err: err instanceof Error ? err.message : String(err) } : {}) };
  console.warn(JSON.stringify(line));
}

export function webhookFailureCounts(): Record<string, number> {
  return Object.fromEntries(counters);
}
