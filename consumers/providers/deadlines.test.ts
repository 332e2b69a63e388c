import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callSignal, onDeadline } from "./deadlines";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("one deadline sweep for all calls in flight", () => {
  it("aborts a call with a TimeoutError once its deadline has passed, not before", () => {
    const c = callSignal(1_000);
    vi.advanceTimersByTime(950);
    expect(c.signal.aborted).toBe(false);
    vi.advanceTimersByTime(100);
    expect(c.signal.aborted).toBe(true);
    expect((c.signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("a finished call is never aborted, and the sweep stops when nothing is in flight", () => {
    const c = callSignal(100);
    c.done();
    vi.advanceTimersByTime(1_000);
    expect(c.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("passes the outer signal's abort on to every call in flight, with its reason", () => {
    const outer = new AbortController();
    const calls = Array.from({ length: 20 }, () => callSignal(10_000, outer.signal));
    calls[0]!.done();
    outer.abort();
    expect(calls[0]!.signal.aborted).toBe(false);
    for (const c of calls.slice(1)) expect((c.signal.reason as DOMException).name).toBe("AbortError");
    const late = callSignal(10_000, outer.signal);
    expect(late.signal.aborted).toBe(true);
    for (const c of calls) c.done();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("fires each deadline once, in any order of registration", () => {
    const fired: string[] = [];
    onDeadline(300, () => fired.push("b"));
    const cancel = onDeadline(100, () => fired.push("x"));
    onDeadline(100, () => fired.push("a"));
    cancel();
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual(["a", "b"]);
  });
});
