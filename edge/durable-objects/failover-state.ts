/**
 * The failover's memory (DESIGN §9): ONE instance per deployment (`idFromName("global")`), replacing the old
 * script's files in /tmp. It holds the region map and the probe counters and applies the pure policy
 * (edge/cron/failover-policy.ts) to them; each call is one read-modify-write of one key, and workerd runs a
 * Durable Object's calls one at a time around storage, so the cron's probes and an operator's command can
 * never interleave halfway. The caller does the I/O (probes, DNS, alerts) and passes the policy's settings,
 * so the object stays a small state machine with no configuration of its own.
 */
import { DurableObject } from "cloudflare:workers";
import type { Region } from "../../core/contract";
import type { Bindings } from "../env";
import type { AdminAction, FailoverStateData, PolicyConfig, ProbeSample, RegionRoutes } from "../cron/failover-policy";
import { initialState } from "../cron/failover-policy";
import { storeOver, type Applied, type FailoverStore } from "../cron/failover-store";

const KEY = "state";

export class FailoverState extends DurableObject<Bindings> implements FailoverStore {
  private readonly store = storeOver(
    async (cfg) => (await this.ctx.storage.get<FailoverStateData>(KEY)) ?? initialState(cfg?.primary ?? "falkenstein"),
    (s) => this.ctx.storage.put(KEY, s),
  );

  observe(sample: ProbeSample, cfg: PolicyConfig): Promise<Applied> {
    return this.store.observe(sample, cfg);
  }

  command(cmd: AdminAction, cfg: PolicyConfig, at: number, actor: string): Promise<Applied> {
    return this.store.command(cmd, cfg, at, actor);
  }

  recordDns(region: Region, ok: boolean): Promise<{ alert: boolean; state: FailoverStateData }> {
    return this.store.recordDns(region, ok);
  }

  snapshot(cfg: PolicyConfig): Promise<FailoverStateData> {
    return this.store.snapshot(cfg);
  }

  routes(cfg: PolicyConfig): Promise<RegionRoutes> {
    return this.store.routes(cfg);
  }
}
