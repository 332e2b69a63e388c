/**
 * Sending token buckets (DESIGN §6): the public surface of consumers/ratelimit. The composition root wires
 * them (consumers/rate-limits.ts): `parseManagedLimits(env)` once, `createRedisTokenBuckets(redis)` once,
 * then per provider call `bucketsForSend(...)` and `takeWhenAvailable(...)`.
 */
export * from "./interface";
export * from "./limits";
export { createRedisTokenBuckets, InvalidBucketSpecError, validateSpecs } from "./redis-token-buckets";
export { takeWhenAvailable, TokenWaitTimeoutError, type WaitOptions } from "./wait-for-tokens";
export { amortisedTakes, callsPerTake } from "./token-reserve";
