/** The sending-domain verbs: transport-agnostic, tenant- and mode-scoped (issue 8). */
export { addDomain, type AddDomainInput } from "./add-domain";
export { verifyDomain } from "./verify-domain";
export { listDomains, getDomain, deleteDomain, type DomainList } from "./read-domains";
export { assertVerifiedSender } from "./sender-domain";
export { toDomainView, type DomainView } from "./domain-view";
