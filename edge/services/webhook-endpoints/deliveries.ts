/**
 * listDeliveries / replayDelivery: an endpoint's delivery log (newest first by keyset cursor on the delivery
 * id, optionally by status) and a manual replay. Both go through the endpoint's scope first, so another
 * tenant's or mode's endpoint — and its deliveries — do not exist (404).
 *
 * Replay puts the delivery back to `pending`, due now, with its attempt count reset: the delivery job sends it
 * again (same `webhook-id`, so a receiver that already has it can dedupe) with a fresh retry schedule. A
 * disabled endpoint gets nothing: replaying to it is a 409 until it is enabled.
 */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { webhookDeliveries } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { DeliveryStatus } from "../../../core/domain/webhook-events";
import { listPage } from "../list-page";
import type { ServiceCtx } from "../service-ctx";
import { loadEndpoint } from "./endpoint-view";

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export interface DeliveryView {
  object: "webhook_delivery";
  id: string;
  endpointId: string;
  /** The `webhook-id` header: the same for every attempt of this event. */
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  payload: unknown;
  createdAt: string;
  updatedAt: string;
}

function toDeliveryView(r: DeliveryRow): DeliveryView {
  const status = r.status as DeliveryStatus;
  return {
    object: "webhook_delivery",
    id: String(r.id),
    endpointId: r.endpointId,
    eventId: r.eventId,
    eventType: r.eventType,
    status,
    attempts: r.attempts,
    nextAttemptAt: status === "pending" ? r.nextAttemptAt.toISOString() : null,
    lastStatusCode: r.lastStatusCode,
    lastError: r.lastError,
    payload: r.payload,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export interface DeliveryList {
  object: "list";
  data: DeliveryView[];
  hasMore: boolean;
  nextCursor: string | null;
}

export async function listDeliveries({
  ctx,
  input,
}: {
  ctx: ServiceCtx;
  input: { endpointId: string; limit: number; starting_after?: string; status?: DeliveryStatus };
}): Promise<DeliveryList> {
  const endpoint = await loadEndpoint(ctx.db, ctx, input.endpointId);
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpoint.id),
        input.status ? eq(webhookDeliveries.status, input.status) : undefined,
        input.starting_after ? lt(webhookDeliveries.id, Number(input.starting_after)) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(input.limit + 1);
  return listPage(rows, input.limit, toDeliveryView);
}

const DELIVERY_ID = /^[1-9][0-9]{0,14}$/;

export async function replayDelivery({ ctx, input }: { ctx: ServiceCtx; input: { endpointId: string; deliveryId: string } }): Promise<DeliveryView> {
  const endpoint = await loadEndpoint(ctx.db, ctx, input.endpointId);
  const missing = () => new AppError("not_found", `Delivery ${input.deliveryId} not found`);
  if (!DELIVERY_ID.test(input.deliveryId)) throw missing();
  if (!endpoint.enabled) throw new AppError("conflict", "The endpoint is disabled: enable it before replaying deliveries");
  const [row] = await ctx.db
    .update(webhookDeliveries)
    .set({ status: "pending", attempts: 0, nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(webhookDeliveries.endpointId, endpoint.id), eq(webhookDeliveries.id, Number(input.deliveryId))))
    .returning();
  if (!row) throw missing();
  return toDeliveryView(row);
}
