/**
 * SSRF guard for customer webhook targets (DESIGN §7). The check runs inside the socket's DNS `lookup`, on
 * the exact addresses the connection will use, so a name that resolves to a public address for a pre-check
 * and to 127.0.0.1 for the connection (DNS rebinding) is still refused. The URL rules (scheme, port, literal
 * hosts) and the address classes live in core/domain/webhook-target.ts, shared with the edge.
 */
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { bareHost, isPublicAddress } from "../../core/domain/webhook-target";

export { isPublicAddress };

export class BlockedAddressError extends Error {
  readonly code = "EBLOCKED";
  constructor(host: string, address: string) {
    super(`webhook target ${host} resolves to non-public address ${address}`);
    this.name = "BlockedAddressError";
  }
}

/**
 * A `lookup` for http.request that refuses non-public results. `allowedHosts` (lower-case host names,
 * config WEBHOOK_ALLOWED_HOSTS) bypass the check: tests point webhooks at a receiver on 127.0.0.1.
 */
export function guardedLookup(allowedHosts: readonly string[]): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 4);
      const list = addresses as dns.LookupAddress[];
      if (!allowedHosts.includes(hostname.toLowerCase())) {
        const bad = list.find((a) => !isPublicAddress(a.address));
        if (bad) return callback(new BlockedAddressError(hostname, bad.address), "", 4);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`no address for ${hostname}`), "", 4);
      callback(null, first.address, first.family);
    });
  };
}

/** Literal IP hosts skip DNS entirely, so they are checked here before any socket is opened. */
export function literalHostBlocked(hostname: string, allowedHosts: readonly string[]): boolean {
  const bare = bareHost(hostname);
  if (allowedHosts.includes(bare.toLowerCase())) return false;
  return ipaddr.isValid(bare) && !isPublicAddress(bare);
}
