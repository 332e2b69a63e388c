/**
 * Shapes shared by the provider sandbox's modules: what it records, which keys it accepts, and the
 * fault-injection configuration tests set through `POST /_sandbox/config`.
 */
import { z } from "zod";

export type Provider = "ses" | "resend" | "telnyx";
export const PROVIDERS: readonly Provider[] = ["ses", "resend", "telnyx"];

/** One delivered message as a provider would have accepted it (one per recipient address). */
export interface SandboxMessage {
  /** The provider's message id (SES MessageId, Resend email id, Telnyx message id); `#n` suffix per extra recipient. */
  id: string;
  provider: Provider;
  to: string;
  from: string;
  subject?: string;
  html?: string;
  text?: string;
  headers?: Record<string, string>;
  batchId?: string;
  recipientId?: string;
  tenantId?: string;
  idempotencyKey?: string;
  /** Which accepted credential sent it (SES access key id, Resend/Telnyx API key): managed vs BYOK. */
  credential: string;
  receivedAt: string;
  receivedAtMs: number;
  /** When the provider call reached the sandbox (before injected latency): when the call *started*. */
  callStartedAtMs: number;
}

export interface MessageFilter {
  provider?: Provider;
  to?: string;
  batchId?: string;
  recipientId?: string;
  limit?: number;
  offset?: number;
}

export interface SesKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, the SigV4 credential scope must name this region (as AWS requires); unset accepts any. */
  region?: string;
}

/** Keys the sandbox accepts in addition to the managed ones from `dev/config.ts` (e.g. BYOK test keys). */
export interface SandboxCredentials {
  ses?: SesKey[];
  resend?: string[];
  telnyx?: string[];
}

const provider = z.enum(["ses", "resend", "telnyx"]);

export const FaultSpec = z.object({
  provider: provider.optional(),
  /** Exact recipient address (email or E.164 number); unset matches every call. */
  to: z.string().min(1).optional(),
  kind: z.enum(["reject", "throttle", "server_error", "timeout"]),
  probability: z.number().min(0).max(1).default(1),
  /** Only the first N matching calls fail; unset = every matching call. */
  times: z.number().int().positive().optional(),
});
export type FaultSpec = z.infer<typeof FaultSpec>;

/** Partial update: each top-level field given replaces the current one; omitted fields stay. */
export const SandboxConfigPatch = z.strictObject({
  rateLimits: z
    .strictObject({ ses: z.number().positive().nullable(), resend: z.number().positive().nullable(), telnyx: z.number().positive().nullable() })
    .partial()
    .optional(),
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  faults: z.array(FaultSpec).max(10_000).optional(),
  credentials: z
    .strictObject({
      ses: z.array(z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), region: z.string().min(1).optional() })),
      resend: z.array(z.string().min(1)),
      telnyx: z.array(z.string().min(1)),
    })
    .partial()
    .optional(),
});
export type SandboxConfigPatch = z.infer<typeof SandboxConfigPatch>;

/** What a provider handler answers; the server writes it. `hold` = fault "timeout": never answer. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  hold?: boolean;
}
