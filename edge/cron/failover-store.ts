/**
 * The failover's state store: the policy's pure functions around a load and a save. The FailoverState Durable
 * Object wraps its storage with it; tests that run the failover job outside workerd wrap a variable.
 */
import type { Region } from "../../core/contract";
import {
  command,
  initialState,
  observe,
  routesOf,
  type AdminAction,
  type FailoverEvent,
  type FailoverStateData,
  type PolicyConfig,
  type ProbeSample,
  type RegionRoutes,
} from "./failover-policy";

export interface Applied {
  state: FailoverStateData;
  events: FailoverEvent[];
}

/** What the failover job needs from its store; the FailoverState Durable Object is the production one. */
export interface FailoverStore {
  observe(sample: ProbeSample, cfg: PolicyConfig): Promise<Applied>;
  command(cmd: AdminAction, cfg: PolicyConfig, at: number, actor: string): Promise<Applied>;
  /** Records a DNS sync outcome; `alert` is true for the first failure towards a target. */
  recordDns(region: Region, ok: boolean): Promise<{ alert: boolean; state: FailoverStateData }>;
  snapshot(cfg: PolicyConfig): Promise<FailoverStateData>;
  routes(cfg: PolicyConfig): Promise<RegionRoutes>;
}

/** The same store over a plain variable: for tests that run the failover job outside workerd. */
export function memoryFailoverStore(primary: Region): FailoverStore {
  let state = initialState(primary);
  return storeOver(
    async () => state,
    async (s) => {
      state = s;
    },
  );
}

export function storeOver(load: (cfg?: PolicyConfig) => Promise<FailoverStateData>, save: (s: FailoverStateData) => Promise<void>): FailoverStore {
  return {
    async observe(sample, cfg) {
      const out = observe(await load(cfg), sample, cfg);
      await save(out.state);
      return out;
    },
    async command(cmd, cfg, at, actor) {
      const out = command(await load(cfg), cmd, cfg, at, actor);
      await save(out.state);
      return out;
    },
    async recordDns(region, ok) {
      const s = await load();
      let alert = false;
      if (ok) {
        s.dns = { region, failedFor: null };
      } else {
        alert = s.dns.failedFor !== region;
        s.dns.failedFor = region;
      }
      await save(s);
      return { alert, state: s };
    },
    snapshot: (cfg) => load(cfg),
    async routes(cfg) {
      return routesOf(await load(cfg));
    },
  };
}

