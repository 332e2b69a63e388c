import { describe, expect, it } from "vitest";
import { resultColumns, type BatchCounters, type Db, type ResultEntry } from "./recipient-store";
import { ResultRecorder } from "./result-recorder";

const counters = (sent: number): BatchCounters => ({ total: 10, sent, failed: 0, suppressed: 0, cancelled: 0, status: "processing" });

/** A Db that records each statement's parameters and answers when the test says so. */
function fakeDb(answer: (params: unknown[]) => { batch_id: string }[] | Error = (p) => distinctBatches(p).map((id) => ({ batch_id: id, ...counters(1) }))) {
  const calls: { params: unknown[]; release: () => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const db: Db = {
    // Statements are named (`{ name, text, values }`); a plain `(text, values)` call is accepted too.
    query: (async (q: string | { values?: unknown[] }, values?: unknown[]) => {
      const params = (typeof q === "string" ? values : q.values) ?? [];
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((release) => calls.push({ params, release }));
      inFlight--;
      const a = answer(params);
      if (a instanceof Error) throw a;
      return { rows: a };
    }) as unknown as Db["query"],
  };
  return { db, calls, maxInFlight: () => maxInFlight };
}

const distinctBatches = (params: unknown[]) => [...new Set(params[1] as string[])];
const tick = () => new Promise((r) => setImmediate(r));
async function waitForCall(f: { calls: unknown[] }, i: number) {
  for (let n = 0; n < 1000 && f.calls.length <= i; n++) await new Promise((r) => setTimeout(r, 2));
  if (f.calls.length <= i) throw new Error(`statement ${i} never came`);
}
const entry = (batchId: string, token: string, ids: number[]): ResultEntry => ({
  batchId,
  token,
  results: ids.map((id) => ({ id, status: "sent" as const, providerMessageId: `m${id}` })),
});

describe("resultColumns", () => {
  it("flattens entries into one column per field, each row carrying its own batch and claim token", () => {
    const cols = resultColumns([
      { batchId: "b1", token: "t1", results: [{ id: 1, status: "sent", providerMessageId: "m1" }, { id: 2, status: "failed", error: "bad" }] },
      { batchId: "b2", token: "t2", results: [{ id: 7, status: "cancelled", error: "batch cancelled" }] },
    ]);
    expect(cols).toEqual([
      [1, 2, 7],
      ["b1", "b1", "b2"],
      ["t1", "t1", "t2"],
      ["sent", "failed", "cancelled"],
      ["m1", null, null],
      [null, "bad", "batch cancelled"],
    ]);
  });
});

describe("ResultRecorder", () => {
  it("writes concurrent entries of several batches in one statement and gives each caller its batch's counters", async () => {
    const f = fakeDb(() => [
      { batch_id: "b1", ...counters(3) },
      { batch_id: "b2", ...counters(1) },
    ]);
    const rec = new ResultRecorder(f.db);
    const all = Promise.all([rec.record(entry("b1", "t1", [1, 2])), rec.record(entry("b2", "t2", [5])), rec.record(entry("b1", "t3", [3]))]);
    await tick();
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.params[0]).toEqual([1, 2, 5, 3]);
    expect(f.calls[0]!.params[2]).toEqual(["t1", "t1", "t2", "t3"]);
    f.calls[0]!.release();
    const [a, b, c] = await all;
    expect(a?.sent).toBe(3);
    expect(b?.sent).toBe(1);
    expect(c?.sent).toBe(3);
  });

  it("does not resolve before the statement returns", async () => {
    const f = fakeDb();
    const rec = new ResultRecorder(f.db);
    let done = false;
    const p = rec.record(entry("b1", "t1", [1])).then(() => (done = true));
    await tick();
    await tick();
    expect(done).toBe(false);
    f.calls[0]!.release();
    await p;
    expect(done).toBe(true);
  });

  it("keeps one flush in flight; entries arriving meanwhile go together into the next one", async () => {
    const f = fakeDb();
    const rec = new ResultRecorder(f.db);
    const first = rec.record(entry("b1", "t1", [1]));
    await tick();
    expect(f.calls).toHaveLength(1);
    const later = [rec.record(entry("b1", "t2", [2])), rec.record(entry("b2", "t3", [3]))];
    await tick();
    expect(f.calls).toHaveLength(1); // still waiting for the first statement
    f.calls[0]!.release();
    await first;
    await tick();
    expect(f.calls).toHaveLength(2);
    expect(f.calls[1]!.params[0]).toEqual([2, 3]);
    f.calls[1]!.release();
    await Promise.all(later);
    expect(f.maxInFlight()).toBe(1);
  });

  it("flushes at once when maxResults are queued, without waiting for the timer", async () => {
    const f = fakeDb();
    const rec = new ResultRecorder(f.db, { maxResults: 3, maxDelayMs: 60_000 });
    const p = [rec.record(entry("b1", "t1", [1, 2])), rec.record(entry("b1", "t2", [3]))];
    expect(f.calls).toHaveLength(1);
    f.calls[0]!.release();
    await Promise.all(p);
  });

  it("keeps the outcomes of a statement that failed on the infrastructure and retries it until it lands", async () => {
    let failures = 2;
    const f = fakeDb((p) => (failures-- > 0 ? Object.assign(new Error("Connection terminated unexpectedly"), {}) : distinctBatches(p).map((id) => ({ batch_id: id, ...counters(1) }))));
    const rec = new ResultRecorder(f.db, { retryCapMs: 5 });
    let settled = false;
    const p = Promise.all([rec.record(entry("b1", "t1", [1])), rec.record(entry("b2", "t2", [2]))]).finally(() => (settled = true));
    for (let i = 0; i < 3; i++) {
      await waitForCall(f, i);
      expect(settled).toBe(false);
      f.calls[i]!.release();
    }
    const [c1, c2] = await p;
    expect([c1?.sent, c2?.sent]).toEqual([1, 1]);
    // The same rows each time: one group, retried whole.
    expect(f.calls.map((c) => c.params[0])).toEqual([[1, 2], [1, 2], [1, 2]]);
    expect(rec.retries).toBe(2);
  });

  it("splits a statement that fails for another reason so one bad entry does not hold the others", async () => {
    const f = fakeDb((p) => ((p[2] as string[]).includes("bad") ? new Error("invalid input syntax for type uuid") : distinctBatches(p).map((id) => ({ batch_id: id, ...counters(1) }))));
    const rec = new ResultRecorder(f.db, { retryCapMs: 5 });
    const good = rec.record(entry("b1", "t1", [1]));
    const bad = rec.record(entry("b2", "bad", [2])).then(
      () => "landed",
      (e: Error) => e.name,
    );
    await waitForCall(f, 0);
    f.calls[0]!.release();
    await waitForCall(f, 1);
    f.calls[1]!.release();
    expect((await good)?.sent).toBe(1);
    // The bad entry is still being retried (its outcome is never dropped) until the recorder is closed.
    await waitForCall(f, 2);
    rec.close();
    f.calls[2]!.release();
    for (let i = 3; i < f.calls.length; i++) f.calls[i]!.release();
    expect(await bad).toBe("RecorderClosedError");
  });

  it("answers an empty entry without a statement", async () => {
    const f = fakeDb();
    const rec = new ResultRecorder(f.db);
    expect(await rec.record({ batchId: "b1", token: "t1", results: [] })).toBeUndefined();
    await tick();
    expect(f.calls).toHaveLength(0);
  });
});
