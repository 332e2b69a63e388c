/**
 * The failover decision as a pure function of (state, one probe sample): no I/O, no clock of its own, so the
 * FailoverState Durable Object can apply it atomically and tests can replay any timeline.
 *
 * Hysteresis per region, the same rule for both: a region becomes DOWN after N consecutive failed probes and
 * UP again only after M consecutive healthy ones. Everything else follows from those two flags, so a flapping
 * region (fail, ok, fail, ok…) never reaches either threshold and nothing moves:
 * - failover: the primary is DOWN, the secondary is UP and answered the latest probe → active = secondary;
 * - failback: active is the secondary and the primary is UP again → active = primary;
 * - both regions DOWN: one alert when the second one goes down, one when the first one comes back (the
 *   incident), never one per minute;
 * - pinned (operator): active stays where it was pinned, whatever the probes say; alerts still fire.
 */
import { REGIONS, type Region } from "../../core/contract";

export interface RegionHealth {
  down: boolean;
  failures: number;
  successes: number;
  /** First failed probe of the streak that made (or is making) the region DOWN; null while UP and healthy. */
  downSince: number | null;
  lastOk: boolean | null;
  lastDetail: string | null;
}

export interface FailoverStateData {
  active: Region;
  pinned: Region | null;
  regions: Record<Region, RegionHealth>;
  /** The "both regions down" incident is open (its alert went out). */
  bothDown: boolean;
  /** Where the DNS record was last verified to point, and whether a failure for `active` was alerted. */
  dns: { region: Region | null; failedFor: Region | null };
  changedAt: number | null;
}

export interface PolicyConfig {
  primary: Region;
  failAfter: number;
  recoverAfter: number;
}

export interface ProbeResult {
  ok: boolean;
  /** `200`, `503`, `timeout after 3000 ms`, `connection refused`… for the alert text. */
  detail: string;
}

export interface ProbeSample {
  at: number;
  results: Record<Region, ProbeResult>;
}

export type FailoverEvent =
  | { kind: "failover" | "failback" | "pinned" | "unpinned"; at: number; from: Region; to: Region; reason: string }
  | { kind: "both-regions-down"; at: number; reason: string }
  | { kind: "recovered"; at: number; region: Region; reason: string };

export const otherRegion = (r: Region): Region => (r === "falkenstein" ? "ashburn" : "falkenstein");

export function initialState(primary: Region): FailoverStateData {
  const fresh = (): RegionHealth => ({ down: false, failures: 0, successes: 0, downSince: null, lastOk: null, lastDetail: null });
  return {
    active: primary,
    pinned: null,
    regions: { falkenstein: fresh(), ashburn: fresh() },
    bothDown: false,
    dns: { region: null, failedFor: null },
    changedAt: null,
  };
}

function switchTo(s: FailoverStateData, to: Region, at: number): Region {
  const from = s.active;
  s.active = to;
  s.changedAt = at;
  return from;
}

/** Applies one probe sample; returns the new state (a copy) and what changed, in order. */
export function observe(prev: FailoverStateData, sample: ProbeSample, cfg: PolicyConfig): { state: FailoverStateData; events: FailoverEvent[] } {
  const s: FailoverStateData = structuredClone(prev);
  const events: FailoverEvent[] = [];
  const at = sample.at;
  for (const r of REGIONS) {
    const h = s.regions[r];
    const res = sample.results[r];
    h.lastOk = res.ok;
    h.lastDetail = res.detail;
    if (res.ok) {
      h.successes++;
      h.failures = 0;
      if (h.down && h.successes >= cfg.recoverAfter) h.down = false;
      if (!h.down) h.downSince = null;
    } else {
      h.failures++;
      h.successes = 0;
      h.downSince ??= at;
      if (h.failures >= cfg.failAfter) h.down = true;
    }
  }

  const primary = cfg.primary;
  const secondary = otherRegion(primary);
  const p = s.regions[primary];
  const q = s.regions[secondary];
  if (!s.pinned) {
    if (s.active === primary && p.down && !q.down && q.lastOk) {
      const from = switchTo(s, secondary, at);
      events.push({ kind: "failover", at, from, to: secondary, reason: `${primary} failed ${p.failures} consecutive probes (last: ${p.lastDetail}); ${secondary} is healthy` });
    } else if (s.active !== primary && !p.down) {
      const from = switchTo(s, primary, at);
      events.push({ kind: "failback", at, from, to: primary, reason: `${primary} answered ${p.successes} consecutive probes` });
    }
  }

  const allDown = REGIONS.every((r) => s.regions[r].down);
  if (allDown && !s.bothDown) {
    s.bothDown = true;
    const detail = REGIONS.map((r) => `${r}: ${s.regions[r].lastDetail}`).join(", ");
    events.push({ kind: "both-regions-down", at, reason: `no region answers its health probe (${detail}); publishing stays on ${s.active}, the outbox keeps what cannot be published` });
  } else if (!allDown && s.bothDown) {
    s.bothDown = false;
    const up = REGIONS.find((r) => !s.regions[r].down)!;
    events.push({ kind: "recovered", at, region: up, reason: `${up} answered ${s.regions[up].successes} consecutive probes` });
  }
  return { state: s, events };
}

export type AdminAction = { action: "pin"; region: Region } | { action: "unpin" } | { action: "failover" } | { action: "failback" };

/**
 * Operator commands. `failover` pins the secondary (a forced move must not be undone by the next healthy
 * probe of the primary); `failback` moves to the primary and resumes automatic mode; `unpin` resumes
 * automatic mode where things are (the next probes decide).
 */
export function command(prev: FailoverStateData, cmd: AdminAction, cfg: PolicyConfig, at: number, actor: string): { state: FailoverStateData; events: FailoverEvent[] } {
  const s: FailoverStateData = structuredClone(prev);
  const events: FailoverEvent[] = [];
  const target = cmd.action === "pin" ? cmd.region : cmd.action === "failover" ? otherRegion(cfg.primary) : cmd.action === "failback" ? cfg.primary : null;
  if (cmd.action === "unpin" || cmd.action === "failback") {
    if (s.pinned) events.push({ kind: "unpinned", at, from: s.pinned, to: target ?? s.active, reason: `${cmd.action} by ${actor}` });
    s.pinned = null;
  } else {
    s.pinned = target;
  }
  if (target && target !== s.active) {
    const from = switchTo(s, target, at);
    events.push({ kind: cmd.action === "failback" ? "failback" : "pinned", at, from, to: target, reason: `${cmd.action} by ${actor}` });
  } else if (target && cmd.action !== "failback") {
    events.push({ kind: "pinned", at, from: s.active, to: target, reason: `${cmd.action} by ${actor} (already active)` });
  }
  return { state: s, events };
}

/**
 * Where a message for a batch homed in `home` goes: the pinned region; else home while home is active or
 * UP; else the active region. Both regions run planners and senders, so either can take any batch.
 */
export type RegionRoutes = Record<Region, Region>;

export function routesOf(s: FailoverStateData): RegionRoutes {
  const route = (home: Region): Region => {
    if (s.pinned) return s.pinned;
    if (home === s.active) return home;
    return s.regions[home].down ? s.active : home;
  };
  return { falkenstein: route("falkenstein"), ashburn: route("ashburn") };
}

/** Regions DOWN for at least `afterMs` whose work is routed elsewhere: their batches get re-homed. */
export function regionsToRehome(s: FailoverStateData, now: number, afterMs: number): { from: Region; to: Region }[] {
  const routes = routesOf(s);
  return REGIONS.filter((r) => {
    const h = s.regions[r];
    return h.down && h.downSince !== null && now - h.downSince >= afterMs && routes[r] !== r;
  }).map((r) => ({ from: r, to: routes[r] }));
}
