// The provider-call loop with its collaborators replaced by small in-memory versions (no services): the
// token taker is the real wiring (rate-limits.ts) over a scripted bucket store.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { tokenTakerFor } from "../rate-limits";
import { createMetrics } from "../metrics";
import type { OutgoingMessage, ProviderClient, SendOutcome } from "../providers/interface";
import { BucketStoreUnavailableError, parseManagedLimits, type TakeResult, type TokenBuckets } from "../ratelimit";
import type { BatchStatusCache } from "./batch-status";
import type { ResultEntry } from "./recipient-store";
import type { ResultRecorder } from "./result-recorder";
import { runProviderCalls, type CallDeps, type ChunkContext } from "./send-calls";

const log = pino({ level: "silent" });

function scriptedStore(results: (TakeResult | "down")[]): TokenBuckets {
  let calls = 0;
  return {
    async take() {
      const r = results[Math.min(calls++, results.length - 1)]!;
      if (r === "down") throw new BucketStoreUnavailableError(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
      return r;
    },
  };
}

function harness(store: TokenBuckets) {
  const metrics = createMetrics();
  const recorded: ResultEntry[] = [];
  const sent: OutgoingMessage[][] = [];
  const client: ProviderClient = {
    provider: "ses",
    maxPerCall: 1,
    async send(messages): Promise<SendOutcome[]> {
      sent.push(messages);
      return messages.map((m) => ({ recipientId: m.recipientId, status: "sent", providerMessageId: `pm-${m.recipientId}` }));
    },
  };
  const taker = tokenTakerFor(store, parseManagedLimits({}), "falkenstein");
  const deps: CallDeps = {
    db: { query: async () => ({ rows: [], rowCount: 0 }) } as unknown as CallDeps["db"],
    recorder: { record: async (e: ResultEntry) => (recorded.push(e), { total: 10, sent: 0, failed: 0, suppressed: 0, cancelled: 0, status: "processing" }) } as unknown as ResultRecorder,
    log,
    metrics,
    statuses: { get: async () => "processing" } as unknown as BatchStatusCache,
    bucketsFor: taker.bucketsFor,
    takeTokens: taker.takeTokens,
    stopping: () => false,
    signal: new AbortController().signal,
  };
  const ctx: ChunkContext = {
    token: "00000000-0000-4000-8000-000000000001",
    client,
    working: () => {},
    batch: {
      id: "00000000-0000-4000-8000-0000000000b1",
      tenantId: "00000000-0000-4000-8000-0000000000a1",
      payload: { channel: "email", from: "A <a@example.com>", subject: "Hi", text: "Hello" },
      defaults: {},
      dryRun: false,
      sendConfig: { id: "c1", mode: "managed", rateLimitPerSecond: null },
    },
  };
  return { deps, ctx, metrics, recorded, sent };
}

const rows = [{ id: 1, address: "r1@example.com", variables: {}, attempts: 1 }];
const counter = async (c: { get(): Promise<{ values: { value: number }[] }> }) => (await c.get()).values.reduce((s, v) => s + v.value, 0);

describe("runProviderCalls: token buckets", () => {
  it("counts a bucket-store outage as store unavailability, not as bucket waits, and sends once it is back", async () => {
    const h = harness(scriptedStore(["down", "down", { ok: true }]));
    const res = await runProviderCalls(h.deps, h.ctx, rows);
    expect(res.retryIds).toEqual([]);
    expect(h.sent).toHaveLength(1);
    expect(await counter(h.metrics.bucketStoreDown)).toBe(2);
    expect(await counter(h.metrics.bucketWaits)).toBe(0);
  });

  it("counts a refused take as a bucket wait", async () => {
    const h = harness(scriptedStore([{ ok: false, retryAfterMs: 5 }, { ok: true }]));
    await runProviderCalls(h.deps, h.ctx, rows);
    expect(await counter(h.metrics.bucketWaits)).toBe(1);
    expect(await counter(h.metrics.bucketStoreDown)).toBe(0);
  });
});
