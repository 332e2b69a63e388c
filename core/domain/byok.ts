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
