/**
 * How many recipient ids one NATS chunk carries, per provider. A chunk is the unit of claim, redelivery and
 * ack: small enough that a redelivery repeats little work and the ack wait covers it, large enough that
 * per-chunk overhead (claim + record statements, one ack) stays small. A Resend chunk is exactly one batch
 * call of 100, so its idempotency key is stable across redeliveries (providers/resend.ts).
 */
import type { Provider } from "../../core/domain/channels";

export type ProviderName = Provider;

export const CHUNK_SIZE: Record<ProviderName, number> = { ses: 50, resend: 100, telnyx: 50, webhook: 50 };

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (size < 1) throw new Error("chunk size must be positive");
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
