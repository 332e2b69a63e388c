/** The API-key verbs: transport-agnostic, tenant-scoped (test keys see only test keys). */
export { createApiKey, CreateApiKeyInput, type CreatedApiKey } from "./create-api-key";
export { getApiKey, listApiKeys, type ApiKeyList } from "./read-api-keys";
export { revokeApiKey } from "./revoke-api-key";
export { toApiKeyView, type ApiKeyView } from "./api-key-view";
