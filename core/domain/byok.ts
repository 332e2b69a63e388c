/**
 * BYOK (bring your own key) provider credentials: what a tenant may store for each provider, validated the
 * same way at creation (edge) and when the consumers open them. Edge-safe: no node:* imports.
 */
import { z } from "zod";

/**
 * An AWS region code (`eu-central-1`, `us-gov-west-1`, `ap-southeast-2`). It becomes part of the SES host name
 * (`email.<region>.amazonaws.com`), so anything else — dots, slashes, ports, upper case — is refused before
 * it can point a request at another host.
 */
export const SES_REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

export function isSesRegion(region: string): boolean {
  return SES_REGION_PATTERN.test(region);
}

export const SesRegion = z.string().regex(SES_REGION_PATTERN, "must be an AWS region code such as eu-central-1");

export const ByokCredentials = {
  ses: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), region: SesRegion.optional() }),
  resend: z.object({ apiKey: z.string().min(1) }),
  telnyx: z.object({ apiKey: z.string().min(1), messagingProfileId: z.string().optional() }),
} as const;

/** Which providers serve which channel (a send config pairs them). */
export const PROVIDERS_BY_CHANNEL = { email: ["ses", "resend"], sms: ["telnyx"], webhook: ["webhook"] } as const;

/** A Telnyx messaging profile id: a UUID (Mission Control shows it as such). */
export const TelnyxProfileId = z.uuid("must be a Telnyx messaging profile id (a UUID)");

/** `••••` plus the last 4 characters; short secrets show nothing of themselves. */
export function maskSecret(value: string): string {
  return value.length <= 8 ? "••••" : `••••${value.slice(-4)}`;
}

/** What reads show of stored credentials: every value masked; the SES region is not a secret and stays readable. */
export function maskCredentials(credentials: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(credentials).map(([k, v]) => [k, k === "region" ? String(v) : maskSecret(String(v))]));
}
