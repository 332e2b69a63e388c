/**
 * The verb behind the three provider webhook routes, after the signature check: refuse a replayed event id,
 * publish the normalised event to JetStream (event.<region>.<provider>) and return. No database work: the
 * events consumer deduplicates again in Postgres (the replay window is only the store's TTL) and applies it.
 */
import { subjects, type EventProvider, type ProviderEventMessage, type Region } from "../../../core/contract";
import { AppError } from "../../../core/domain/problem";
import type { Publisher } from "../../adapters/publisher";
import type { ReplayStore } from "../../adapters/replay-store";
import { countWebhookFailure } from "./failures";

export interface AcceptEventDeps {
  publisher: Publisher;
  replay: ReplayStore;
  region: Region;
  traceId: string;
}

export async function acceptProviderEvent(deps: AcceptEventDeps, event: Omit<ProviderEventMessage, "receivedAt">): Promise<{ eventId: string }> {
  const provider: EventProvider = event.provider;
  const key = `${provider}:${event.eventId}`;
  let first: boolean;
  try {
    first = await deps.replay.claim(key);
  } catch (err) {
    countWebhookFailure(provider, "replay_store_unavailable", err);
    throw new AppError("unavailable", "the replay store is unavailable; retry later");
  }
  if (!first) {
    countWebhookFailure(provider, "replayed");
    throw new AppError("conflict", `event ${event.eventId} was already received`);
  }
  const message: ProviderEventMessage = { ...event, receivedAt: new Date().toISOString() };
  try {
    await deps.publisher.publish(deps.region, subjects.event(deps.region, provider), JSON.stringify(message), { "Bs-Trace-Id": deps.traceId, "Nats-Msg-Id": key });
  } catch (err) {
    // Not accepted: let the provider retry the same id.
    await deps.replay.release(key).catch(() => {});
    countWebhookFailure(provider, "publish_failed", err);
    throw new AppError("unavailable", "the event could not be queued; retry later");
  }
  return { eventId: event.eventId };
}
