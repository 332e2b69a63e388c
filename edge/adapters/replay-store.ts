/**
 * Replay protection for provider webhooks without Postgres on the request path: `SET key 1 NX EX ttl` in
 * Upstash Redis (the limiter's store). The first delivery of an event id claims it; a replay within the TTL
 * finds it taken. The TTL outlives the 5-minute timestamp tolerance (plus clock skew), after which a replayed
 * request is refused as stale anyway. A claim whose publish failed is released, so the provider's retry of
 * the same event is accepted.
 *
 * The Redis client holds no socket (REST), so one per isolate and config is fine.
 */
import { Redis } from "@upstash/redis/cloudflare";
import type { EdgeConfig } from "../env";

export interface ReplayStore {
  /** true: first time this id is seen; false: a replay. Throws when the store cannot answer. */
  claim(key: string): Promise<boolean>;
  release(key: string): Promise<void>;
}

export const REPLAY_TTL_SECONDS = 15 * 60;

const cache = new WeakMap<EdgeConfig, ReplayStore>();

export function replayStoreFor(config: EdgeConfig): ReplayStore {
  const hit = cache.get(config);
  if (hit) return hit;
  const redis = new Redis({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN, retry: { retries: 1 }, enableTelemetry: false });
  const store: ReplayStore = {
    async claim(key) {
      return (await redis.set(`bs:webhook-replay:${key}`, 1, { nx: true, ex: REPLAY_TTL_SECONDS })) === "OK";
    },
    async release(key) {
      await redis.del(`bs:webhook-replay:${key}`);
    },
  };
  cache.set(config, store);
  return store;
}
