/** The public shape of a suppression, the list cursor, and the one address check every suppression verb uses. */
import { and, eq } from "drizzle-orm";
import { suppressions, type channelEnum } from "../../../core/db/schema";
import { normalizeAddress } from "../../../core/domain/address";
import { AppError } from "../../../core/domain/problem";
import type { SuppressionReason } from "../../../core/domain/suppressions";
import type { ServiceCtx } from "../service-ctx";

export type Channel = (typeof channelEnum.enumValues)[number];

export interface SuppressionView {
  object: "suppression";
  channel: Channel;
  address: string;
  reason: SuppressionReason;
  source: string;
  createdAt: string;
}

export function toSuppressionView(row: typeof suppressions.$inferSelect): SuppressionView {
  return {
    object: "suppression",
    channel: row.channel,
    address: row.address,
    reason: row.reason as SuppressionReason,
    source: row.source,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The caller's list: its tenant and its key's mode (a test key never sees or changes the live list). */
export function suppressionScope(ctx: ServiceCtx) {
  return and(eq(suppressions.tenantId, ctx.tenantId), eq(suppressions.mode, ctx.mode))!;
}

/** Normalised exactly like a recipient's `to` (core/domain/address.ts), or a 422 naming `path`. */
export function normalizedOrThrow(channel: Channel, raw: string, path = "address"): string {
  const n = normalizeAddress(channel, raw);
  if (!n.ok) throw new AppError("validation_failed", `${path}: ${n.message}`, { errors: [{ path, message: n.message }] });
  return n.address;
}

/** Opaque keyset cursor over the list order (channel, address). */
export function encodeCursor(row: { channel: string; address: string }): string {
  const bytes = new TextEncoder().encode(JSON.stringify([row.channel, row.address]));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): { channel: Channel; address: string } {
  const bad = () => new AppError("validation_failed", "starting_after: not a cursor from this list", { errors: [{ path: "starting_after", message: "not a cursor from this list" }] });
  try {
    const bin = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const v = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)))) as unknown;
    if (Array.isArray(v) && v.length === 2 && ["email", "sms", "webhook"].includes(v[0]) && typeof v[1] === "string" && !v[1].includes("\u0000")) {
      return { channel: v[0] as Channel, address: v[1] };
    }
  } catch {
    // fall through
  }
  throw bad();
}
