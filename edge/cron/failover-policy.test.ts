// The failover policy as a pure function: pin semantics, routing table and re-homing eligibility. The
// probe-driven timeline (failover, failback, flapping, both down) is proven end to end through the real
// scheduled handler in edge/test/failover-timeline.test.ts.
import { describe, expect, it } from "vitest";
import { command, initialState, observe, regionsToRehome, routesOf, type FailoverStateData, type PolicyConfig } from "./failover-policy";

const cfg: PolicyConfig = { primary: "falkenstein", failAfter: 3, recoverAfter: 8 };
const up = { ok: true, detail: "HTTP 200" };
const down = { ok: false, detail: "HTTP 503" };

function run(s: FailoverStateData, samples: [boolean, boolean][], t0 = 0) {
  const events = [];
  for (const [i, [f, a]] of samples.entries()) {
    const out = observe(s, { at: t0 + i * 15_000, results: { falkenstein: f ? up : down, ashburn: a ? up : down } }, cfg);
    s = out.state;
    events.push(...out.events.map((e) => e.kind));
  }
  return { s, events };
}

describe("failover policy", () => {
  it("a pin holds against the probes; failback unpins and returns to the primary", () => {
    let s = command(initialState("falkenstein"), { action: "pin", region: "ashburn" }, cfg, 0, "ops").state;
    expect(routesOf(s)).toEqual({ falkenstein: "ashburn", ashburn: "ashburn" });
    // Primary healthy for long: no automatic failback while pinned; ashburn failing does not move it either.
    const r = run(s, Array.from({ length: 12 }, () => [true, false] as [boolean, boolean]));
    expect(r.events).toEqual([]);
    expect(r.s.active).toBe("ashburn");
    const back = command(r.s, { action: "failback" }, cfg, 1, "ops");
    expect(back.events.map((e) => e.kind)).toEqual(["unpinned", "failback"]);
    expect(back.state).toMatchObject({ active: "falkenstein", pinned: null });
    s = back.state;
    // ashburn is DOWN (12 failures): its batches route to falkenstein and may be re-homed after the delay.
    expect(routesOf(s)).toEqual({ falkenstein: "falkenstein", ashburn: "falkenstein" });
    expect(regionsToRehome(s, 15_000 * 11, 90_000)).toEqual([{ from: "ashburn", to: "falkenstein" }]);
    expect(regionsToRehome(s, 15_000 * 11, 200_000)).toEqual([]);
  });

  it("unpin resumes automatic mode where things are; the next samples decide", () => {
    const pinned = command(initialState("falkenstein"), { action: "failover" }, cfg, 0, "ops");
    expect(pinned.events.map((e) => e.kind)).toEqual(["pinned"]);
    const free = command(pinned.state, { action: "unpin" }, cfg, 1, "ops");
    expect(free.state).toMatchObject({ active: "ashburn", pinned: null });
    // The primary was never DOWN, so the first sample fails back.
    expect(run(free.state, [[true, true]]).events).toEqual(["failback"]);
  });

  it("no failover to a secondary that is itself DOWN; both-down alerts once and closes once", () => {
    const r = run(initialState("falkenstein"), [
      [false, false],
      [false, false],
      [false, false],
      [false, false],
      ...Array.from({ length: 8 }, () => [false, true] as [boolean, boolean]),
    ]);
    // ashburn needs M healthy probes to be UP again; then falkenstein (still DOWN) fails over to it.
    expect(r.events).toEqual(["both-regions-down", "failover", "recovered"]);
    expect(r.s.active).toBe("ashburn");
  });
});
