/**
 * The rules a webhook target URL must meet, edge-safe so the edge can refuse a bad target at creation and the
 * consumers apply the very same rules before every request (DESIGN §7). The DNS-time check (the address a
 * host name resolves to, on the socket that will be used) stays in consumers/providers/ssrf-guard.ts and
 * uses `isPublicAddress` from here.
 *
 * - Scheme: http or https only.
 * - Port: 80, 443, or 1024–65535 except `BLOCKED_PORTS`, the well-known ports of internal services (data
 *   stores, queues, orchestration APIs) that a webhook has no business reaching even on a public address.
 * - Literal IP hosts: must be public (see `isPublicAddress`). WHATWG URL parsing already turns `0x7f.1`,
 *   `2130706433` and friends into dotted IPv4, and IPv6 into its canonical form.
 *
 * Edge-safe: no node:* imports (ipaddr.js is plain JS).
 */
import ipaddr from "ipaddr.js";

/** Internal-service ports refused as webhook targets (documented in docs/delivery.md). */
export const BLOCKED_PORTS: ReadonlyMap<number, string> = new Map([
  [2181, "ZooKeeper"],
  [2375, "Docker API"],
  [2376, "Docker API (TLS)"],
  [2379, "etcd client"],
  [2380, "etcd peer"],
  [3306, "MySQL"],
  [4222, "NATS"],
  [5432, "PostgreSQL"],
  [5672, "AMQP"],
  [5984, "CouchDB"],
  [6379, "Redis"],
  [6443, "Kubernetes API"],
  [8200, "Vault"],
  [8222, "NATS monitoring"],
  [8500, "Consul"],
  [9092, "Kafka"],
  [9200, "Elasticsearch"],
  [9300, "Elasticsearch transport"],
  [10250, "kubelet"],
  [10255, "kubelet (read-only)"],
  [11211, "memcached"],
  [15672, "RabbitMQ management"],
  [27017, "MongoDB"],
]);

/** Why `port` (the URL's effective port) is refused, or undefined. */
export function webhookPortProblem(port: number): string | undefined {
  if (port === 80 || port === 443) return undefined;
  if (port < 1024) return `port ${port} is not allowed (80, 443 or 1024-65535)`;
  const service = BLOCKED_PORTS.get(port);
  if (service) return `port ${port} (${service}) is not allowed`;
  return undefined;
}

/**
 * Whether an IP address (v4 or v6, no brackets) is a public Internet address. Only ipaddr.js's `unicast`
 * class counts. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is judged by its IPv4 address; every other form that
 * embeds or tunnels to an IPv4 address — IPv4-compatible `::a.b.c.d` (deprecated, classed `unicast` by
 * ipaddr.js), RFC 6145 `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`,
 * Teredo `2001::/32` — is refused whatever it embeds: a gateway may translate it into the internal network.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6") {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) {
      ip = v6.toIPv4Address();
    } else if (v6.parts.slice(0, 6).every((p) => p === 0)) {
      return false; // ::/96: unspecified, loopback and IPv4-compatible addresses
    }
  }
  if (ip.range() !== "unicast") return false;
  // Cloud metadata endpoints that sit in otherwise unicast space (Alibaba 100.100.100.200 is CGNAT and AWS
  // IPv6 IMDS fd00:ec2::254 unique-local, both caught above). Kept explicit for readers.
  return !["169.254.169.254", "fd00:ec2::254"].includes(ip.toString());
}

/** A URL's host without IPv6 brackets. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, "");
}

/**
 * Why a webhook target URL is refused, or undefined when it may be called (a host name still has to resolve
 * to public addresses at send time). `allowedHosts` (lower case; local tests) skip the address and port rules.
 */
export function webhookTargetProblem(target: string | URL, allowedHosts: readonly string[] = []): string | undefined {
  let url: URL;
  try {
    url = typeof target === "string" ? new URL(target) : target;
  } catch {
    return `invalid URL ${String(target).slice(0, 200)}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `unsupported scheme ${url.protocol}`;
  const host = bareHost(url.hostname).toLowerCase();
  if (!host) return "URL has no host";
  if (allowedHosts.includes(host)) return undefined;
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  const portProblem = webhookPortProblem(port);
  if (portProblem) return portProblem;
  if (ipaddr.isValid(host) && !isPublicAddress(host)) return `target ${url.hostname} is not a public address`;
  return undefined;
}
