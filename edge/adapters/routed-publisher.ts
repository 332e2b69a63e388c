/**
 * The edge's publisher as every path uses it (requests, cron, scheduler): the per-region NatsPublisher
 * Durable Objects behind the LIVE region map of the FailoverState object (DESIGN §9). A message for a batch
 * homed in a region that is failed over goes to the active region, its subject rewritten to that region
 * (`batch.falkenstein.plan` → `batch.ashburn.plan`): each region's consumers only read their own subjects.
 *
 * The map is read through the FailoverState object at most every FAILOVER_MAP_CACHE_MS per isolate (module
 * scope: a per-isolate cache of plain data, no I/O object). If the map cannot be read the home region is
 * used: the outbox keeps whatever that publish cannot deliver, and the next sweep routes it again.
 */
import type { Region } from "../../core/contract";
import type { RegionRoutes } from "../cron/failover-policy";
import { failoverSettings } from "../cron/failover";
import { loadConfig, type Bindings } from "../env";
import { durableObjectPublisher, type Publisher } from "./publisher";

const cache = new Map<string, { routes: RegionRoutes; until: number }>();

/** `batch.<region>.plan`, `send.<region>.<channel>`: the region is the second token. */
export function subjectInRegion(subject: string, region: Region): string {
  const parts = subject.split(".");
  if (parts.length < 2) return subject;
  parts[1] = region;
  return parts.join(".");
}

export function routedPublisher(inner: Publisher, routes: () => Promise<RegionRoutes>): Publisher {
  return {
    async publish(region, subject, data, headers) {
      let live = region;
      try {
        live = (await routes())[region];
      } catch (err) {
        console.error(`region map unreadable, publishing to home region ${region}`, err);
      }
      return inner.publish(live, live === region ? subject : subjectInRegion(subject, live), data, headers);
    },
  };
}

/** The publisher for this deployment: routed when failover is configured, the plain per-region one otherwise. */
export function edgePublisher(env: Bindings): Publisher {
  const inner = durableObjectPublisher(env.NATS_PUBLISHER);
  const settings = failoverSettings(loadConfig(env));
  if (!settings) return inner;
  return routedPublisher(inner, async () => {
    const hit = cache.get(settings.stateName);
    if (hit && hit.until > Date.now()) return hit.routes;
    const ns = env.FAILOVER_STATE;
    const routes = await ns.get(ns.idFromName(settings.stateName)).routes(settings.policy);
    if (settings.mapCacheMs > 0) cache.set(settings.stateName, { routes, until: Date.now() + settings.mapCacheMs });
    return routes;
  });
}
