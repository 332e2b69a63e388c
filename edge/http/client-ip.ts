/**
 * The identifier the per-IP limit counts a caller under. Only `CF-Connecting-IP` (Cloudflare sets it; a
 * client cannot forge it through Cloudflare). IPv4 counts per address. IPv6 counts per /64: one subscriber
 * gets a whole /64 (often more) and can rotate through 2^64 addresses at will, so a per-address limit would
 * not limit anyone. An IPv4-mapped IPv6 address counts as its IPv4 address.
 */
import ipaddr from "ipaddr.js";

/** Outside Cloudflare (a bare workerd without the header) or with an unparsable value: one shared bucket. */
export const NO_IP = "no-ip";

export function rateLimitIdentifier(header: string | undefined): string {
  const raw = header?.trim();
  if (!raw || !(ipaddr.IPv4.isValidFourPartDecimal(raw) || ipaddr.IPv6.isValid(raw))) return NO_IP;
  let addr = ipaddr.parse(raw);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === "ipv4") return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(":")}::/64`;
}
