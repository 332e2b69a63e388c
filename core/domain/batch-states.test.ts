import { describe, expect, it } from "vitest";
import {
  BATCH_STATES,
  BATCH_TRANSITIONS,
  COUNTER_OF_RECIPIENT_STATUS,
  RECIPIENT_STATES,
  TERMINAL_RECIPIENT_STATES,
  canTransition,
  completionSql,
  guardSql,
  isBatchDone,
  isTerminalRecipient,
  statusIn,
} from "./batch-states";

describe("batch state machine", () => {
  it("derives its states from the Postgres enums", () => {
    expect(BATCH_STATES).toEqual(["draft", "scheduled", "queued", "processing", "paused", "completed", "cancelled", "failed"]);
    expect(RECIPIENT_STATES).toContain("suppressed");
  });

  it("every transition starts and ends in a known state", () => {
    for (const [action, t] of Object.entries(BATCH_TRANSITIONS)) {
      for (const s of t.from) expect(BATCH_STATES, action).toContain(s);
      if (t.to !== null) expect(BATCH_STATES, action).toContain(t.to);
    }
  });

  it("allows the documented transitions and nothing backwards", () => {
    expect(canTransition("pause", "processing")).toBe(true);
    expect(canTransition("pause", "draft")).toBe(false);
    expect(canTransition("resume", "paused")).toBe(true);
    expect(canTransition("resume", "processing")).toBe(false);
    expect(canTransition("cancel", "completed")).toBe(false);
    expect(canTransition("cancel", "cancelled")).toBe(false);
    expect(canTransition("cancel", "paused")).toBe(true);
    expect(canTransition("retry", "completed")).toBe(true);
    expect(canTransition("retry", "processing")).toBe(false);
    expect(canTransition("planStart", "queued")).toBe(true);
    expect(canTransition("complete", "paused")).toBe(false);
    expect(canTransition("deleteDraft", "queued")).toBe(false);
    // No action leaves cancelled.
    for (const action of Object.keys(BATCH_TRANSITIONS) as (keyof typeof BATCH_TRANSITIONS)[]) {
      expect(canTransition(action, "cancelled"), action).toBe(false);
    }
  });

  it("renders the SQL guards from the same table", () => {
    expect(guardSql("pause")).toBe("status in ('queued', 'processing')");
    expect(guardSql("cancel", "b.status")).toBe("b.status in ('draft', 'scheduled', 'queued', 'processing', 'paused')");
    expect(() => statusIn(["queued'; drop table batches; --"])).toThrow();
    expect(() => statusIn([])).toThrow();
    expect(() => statusIn(["queued"], "status; --")).toThrow();
  });
});

describe("recipient states and the completion rule", () => {
  it("terminal states are exactly those feeding a final counter", () => {
    for (const s of RECIPIENT_STATES) {
      const counter = COUNTER_OF_RECIPIENT_STATUS[s];
      const final = counter !== null && counter !== "queued";
      expect(isTerminalRecipient(s), s).toBe(final);
    }
    expect(TERMINAL_RECIPIENT_STATES).not.toContain("sending");
  });

  it("a batch is done exactly when sent + failed + suppressed + cancelled reaches total", () => {
    expect(isBatchDone({ total: 10, sent: 4, failed: 3, suppressed: 2, cancelled: 1 })).toBe(true);
    expect(isBatchDone({ total: 10, sent: 4, failed: 3, suppressed: 2, cancelled: 0 })).toBe(false);
    expect(isBatchDone({ total: 0, sent: 0, failed: 0, suppressed: 0, cancelled: 0 })).toBe(true);
    expect(isBatchDone(undefined)).toBe(false);
    expect(completionSql()).toBe("sent + failed + suppressed + cancelled >= total");
    expect(completionSql("b")).toBe("b.sent + b.failed + b.suppressed + b.cancelled >= b.total");
  });
});
