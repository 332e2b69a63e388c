/**
 * Webhook targets checked when a batch is created, so a bad target is a 422 now rather than a failed send
 * later: the shared rules of core/domain/webhook-target.ts (scheme, ports, literal non-public addresses —
 * the same the sender enforces), plus what the API refuses outright: credentials in the URL and host names
 * that only mean something inside a network (localhost, *.internal, *.local…). Names are not resolved here;
 * the consumers' SSRF guard checks the resolved addresses at connect time.
 */
import { webhookTargetProblem as sharedTargetProblem } from "../../../core/domain/webhook-target";

const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa|intranet|lan)$/i;

/** `allowedHosts` (lower case, configuration: local development's 127.0.0.1) pass the address and name rules. */
export function webhookTargetProblem(raw: string, allowedHosts: readonly string[] = []): string | undefined {
  const shared = sharedTargetProblem(raw, allowedHosts);
  if (shared) return shared;
  const url = new URL(raw);
  if (url.username || url.password) return "the URL must not contain credentials";
  const host = url.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (allowedHosts.includes(host.toLowerCase())) return undefined;
  if (INTERNAL_NAMES.test(host)) return `target ${host} is an internal host name`;
  if (!host.includes(".") && !host.includes(":")) return `target ${host} is a single-label host name`;
  return undefined;
}
