/** The customer webhook endpoint verbs: transport-agnostic, scoped to the caller's tenant and key mode. */
export { createEndpoint, MAX_ENDPOINTS, type CreateEndpointInput } from "./create-endpoint";
export { getEndpoint, listEndpoints, type EndpointList } from "./read-endpoints";
export { deleteEndpoint, updateEndpoint, type UpdateEndpointInput } from "./update-endpoint";
export { MAX_OVERLAP_SECONDS, rotateEndpointSecret } from "./rotate-secret";
export type { EndpointDeps, EndpointView } from "./endpoint-view";
export { listDeliveries, replayDelivery, type DeliveryList, type DeliveryView } from "./deliveries";
