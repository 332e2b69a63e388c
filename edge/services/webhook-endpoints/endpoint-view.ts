/**
 * The public shape of a customer webhook endpoint, its scope (tenant AND key mode, like batches) and the URL
 * rules every verb that sets a URL applies. The signing secret is never part of the view: it is shown once,
 * by create and rotate.
 */
import { and, eq, type SQL } from "drizzle-orm";
import { webhookEndpoints } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";
import type { SecretSealer } from "../../adapters/secret-sealer";
import { webhookTargetProblem } from "../batches/webhook-target";
import type { ServiceCtx } from "../service-ctx";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

/** What the endpoint verbs need besides the request context. */
export interface EndpointDeps {
  sealer: SecretSealer;
  /** WEBHOOK_ALLOWED_HOSTS: private hosts allowed anyway (local development only). */
  allowedHosts: readonly string[];
}

export interface EndpointView {
  object: "webhook_endpoint";
  id: string;
  url: string;
  description: string | null;
  /** Empty = every event type. */
  eventTypes: string[];
  enabled: boolean;
  /** `manual` or `failing` (auto-disabled after sustained delivery failure); null while enabled. */
  disabledReason: "manual" | "failing" | null;
  disabledAt: string | null;
  /** While a rotated-out secret still signs: when it stops. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toEndpointView(row: EndpointRow, now = new Date()): EndpointView {
  const prev = row.previousSecretExpiresAt && row.previousSecretExpiresAt > now ? row.previousSecretExpiresAt.toISOString() : null;
  return {
    object: "webhook_endpoint",
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes,
    enabled: row.enabled,
    disabledReason: row.enabled ? null : row.disabledReason === "failing" ? "failing" : "manual",
    disabledAt: row.enabled ? null : (row.disabledAt?.toISOString() ?? null),
    previousSecretExpiresAt: prev,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function endpointScope(ctx: Pick<ServiceCtx, "tenantId" | "mode">): SQL {
  return and(eq(webhookEndpoints.tenantId, ctx.tenantId), eq(webhookEndpoints.mode, ctx.mode))!;
}

export function notFound(id: string): AppError {
  return new AppError("not_found", `Webhook endpoint ${id} not found`);
}

/** The caller's endpoint, or 404 (another tenant's, the other mode's, or a malformed id). */
export async function loadEndpoint(db: Executor, ctx: Pick<ServiceCtx, "tenantId" | "mode">, id: string, lock = false): Promise<EndpointRow> {
  if (!UUID.test(id)) throw notFound(id);
  const q = db.select().from(webhookEndpoints).where(and(endpointScope(ctx), eq(webhookEndpoints.id, id)));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw notFound(id);
  return row;
}

/**
 * The URL rules at creation and on change: https (plain http only for an allow-listed local host), then the
 * webhook target rules every webhook call obeys (public address, no internal ports or names, no credentials).
 * Host names are resolved and checked again at delivery time by the consumers' SSRF guard.
 */
export function assertEndpointUrl(url: string, allowedHosts: readonly string[]): void {
  const problem = endpointUrlProblem(url, allowedHosts);
  if (problem) throw new AppError("validation_failed", `url: ${problem}`, { errors: [{ path: "url", message: problem }] });
}

function endpointUrlProblem(raw: string, allowedHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute https URL";
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowedHosts.includes(host))) return "must be an https URL";
  if (url.hash) return "must not have a fragment";
  return webhookTargetProblem(raw, allowedHosts);
}

export function secretBinding(row: Pick<EndpointRow, "tenantId" | "id">) {
  return { tenantId: row.tenantId, configId: row.id, provider: "webhook-endpoint" };
}

export type { SecretSealer };
