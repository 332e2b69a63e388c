/**
 * Resend webhooks: Svix signatures (`svix-id`, `svix-timestamp`, `svix-signature`), shared/PROVIDERS.md §2.
 * Svix's scheme is the Standard Webhooks v1 scheme under other header names, so the check is the
 * `standardwebhooks` library (pure JS, runs in workerd; the `svix` package itself needs Node 22): HMAC-SHA256
 * over `id.timestamp.body` with the base64 key after `whsec_`, any of the space-separated `v1,` signatures
 * matching in constant time, timestamps more than 5 minutes off refused. Several secrets may be configured
 * (rotation). Replay protection needs storage; the verified `id` is returned for the route to check.
 */
import { Webhook, WebhookVerificationError } from "standardwebhooks";

export type SvixFailure = "missing_headers" | "bad_signature" | "stale" | "malformed";

export type SvixVerification = { ok: true; id: string; timestamp: number; payload: unknown } | { ok: false; reason: SvixFailure };

type HeaderSource = Headers | Record<string, string | undefined>;

function header(h: HeaderSource, name: string): string | undefined {
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name);
  return key ? h[key] : undefined;
}

export function verifySvix(rawBody: string, headers: HeaderSource, secrets: string | readonly string[]): SvixVerification {
  const id = header(headers, "svix-id");
  const timestamp = header(headers, "svix-timestamp");
  const signature = header(headers, "svix-signature");
  if (!id || !timestamp || !signature) return { ok: false, reason: "missing_headers" };
  const mapped = { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature };
  let reason: SvixFailure = "bad_signature";
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    try {
      const payload: unknown = new Webhook(secret).verify(rawBody, mapped);
      return { ok: true, id, timestamp: Number(timestamp), payload };
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) return { ok: false, reason: "malformed" }; // body is not JSON
      if (/timestamp/i.test(err.message) || /Invalid Signature Headers/.test(err.message)) return { ok: false, reason: "stale" };
      reason = "bad_signature";
    }
  }
  return { ok: false, reason };
}
