// Issue 6, scenario 8: NatsPublisher.reset() must close only the connection that failed, never a newer one
// another publish has just opened.
import { describe, expect, it } from "vitest";
import { ConnectionSlot } from "../durable-objects/connection-slot";

interface FakeConn {
  n: number;
  closed: boolean;
}

function slot() {
  let opened = 0;
  const conns: FakeConn[] = [];
  const s = new ConnectionSlot<FakeConn>(
    async () => {
      const c = { n: ++opened, closed: false };
      conns.push(c);
      return c;
    },
    async (c) => {
      c.closed = true;
    },
  );
  return { s, conns };
}

describe("ConnectionSlot", () => {
  it("shares one connection until it is reset", async () => {
    const { s, conns } = slot();
    const a = s.get();
    expect(s.get()).toBe(a);
    await s.reset(a);
    expect((await a).closed).toBe(true);
    const b = s.get();
    expect(b).not.toBe(a);
    expect((await b).n).toBe(2);
    expect(conns).toHaveLength(2);
  });

  it("a late reset of the old connection does not close the newer one", async () => {
    const { s } = slot();
    const first = s.get();
    // Publishes P1 and P2 both used `first`; P1 fails, resets, and its retry opens `second`.
    await s.reset(first);
    const second = s.get();
    await second;
    // P2 fails on `first` a moment later and resets with the connection IT used.
    await s.reset(first);
    expect((await second).closed).toBe(false);
    expect(s.get()).toBe(second);
  });

  it("forgets a failed dial so the next get dials again", async () => {
    let fail = true;
    const s = new ConnectionSlot<number>(
      async () => {
        if (fail) throw new Error("refused");
        return 7;
      },
      async () => {},
    );
    await expect(s.get()).rejects.toThrow("refused");
    fail = false;
    expect(await s.get()).toBe(7);
  });
});

describe("ConnectionSlot closed watcher", () => {
  it("forgets a connection that closed by itself, but only if it is still the current one", async () => {
    const closers: (() => void)[] = [];
    let n = 0;
    const s = new ConnectionSlot<number>(
      async () => ++n,
      async () => {},
      () => new Promise<void>((resolve) => closers.push(resolve)),
    );
    const a = s.get();
    await a;
    closers[0]!();
    await new Promise((r) => setTimeout(r, 0));
    const b = s.get();
    expect(b).not.toBe(a);
    expect(await b).toBe(2);
  });
});
