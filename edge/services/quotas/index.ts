/** Per-tenant quotas: the use of each (GET /v1/usage) and the checks the batch verbs make. */
export { readTenantUsage, type QuotaUse, type TenantUsage } from "./tenant-usage";
export { assertCapacity, quotaExceeded, reserveDailySends } from "./enforce-quotas";
