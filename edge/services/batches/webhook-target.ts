/**
 * Edge-side webhook target rules, checked when a batch is created so a bad target is a 422 now rather than a
 * failed send later: http(s) only, no credentials in the URL, the usual web ports or unprivileged ones, and
 * no literal private/loopback/link-local/metadata host. Names are not resolved here (the Worker cannot
 * see the sender's DNS view); the consumers' SSRF guard checks the resolved addresses at connect time.
 *
 * TODO(issue 7): replace with core/domain/webhook-target.ts once it lands on main (same rules, shared with
 * the consumers).
 */
import ipaddr from "ipaddr.js";

const BLOCKED_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa|intranet|lan)$/i;

export function webhookTargetProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `uses ${url.protocol}; only http and https are allowed`;
  if (url.username || url.password) return "must not contain credentials";
  const port = url.port ? Number(url.port) : undefined;
  if (port !== undefined && port < 1024 && port !== 80 && port !== 443) return `uses privileged port ${port}`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host) return "has no host";
  if (ipaddr.isValid(host)) {
    let ip = ipaddr.parse(host);
    if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
    if (ip.range() !== "unicast") return `targets the non-public address ${host}`;
    return undefined;
  }
  if (BLOCKED_NAMES.test(host.replace(/\.$/, ""))) return `targets the internal host name ${host}`;
  if (!host.includes(".")) return `targets the single-label host ${host}`;
  return undefined;
}
