/** Test-side NATS over WebSocket (as the edge speaks it): make sure the streams exist, watch published plans. */
import { jetstreamManager, RetentionPolicy, DiscardPolicy, StorageType } from "@nats-io/jetstream";
import { wsconnect, type NatsConnection } from "@nats-io/nats-core";
import { streams, TRACE_HEADER } from "../../core/contract";
import { testEnv } from "./harness";

export async function connectNats(): Promise<NatsConnection> {
  return wsconnect({ servers: testEnv.NATS_WS_URL_FALKENSTEIN as string, timeout: 5000 });
}

/** The consumers create the streams in the full stack; a lone worker-test run creates the plan stream itself. */
export async function ensurePlanStream(nc: NatsConnection): Promise<void> {
  await ensureStream(nc, streams.batches);
}

export async function ensureStream(nc: NatsConnection, spec: { name: string; subjects: readonly string[]; retention: "workqueue" | "limits" }): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(spec.name);
  } catch {
    await jsm.streams
      .add({
        name: spec.name,
        subjects: [...spec.subjects],
        retention: spec.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
      })
      .catch((err: Error) => {
        if (!/already in use|already exists/i.test(err.message)) throw err;
      });
  }
}

export interface SeenPlan {
  subject: string;
  data: { batchId: string; tenantId: string };
  traceId: string | undefined;
}

/**
 * A core subscription sees every message published on the subject, whether or not a planner consumes it
 * from the stream, so the assertion does not race the consumers of the full test stack.
 */
export function watchPlans(nc: NatsConnection, batchId: string) {
  const seen: SeenPlan[] = [];
  const sub = nc.subscribe("batch.*.plan");
  const done = (async () => {
    for await (const m of sub) {
      const data = m.json<SeenPlan["data"]>();
      if (data.batchId === batchId) seen.push({ subject: m.subject, data, traceId: m.headers?.get(TRACE_HEADER) });
    }
  })();
  return {
    seen,
    async waitFor(count: number, timeoutMs = 10_000): Promise<SeenPlan[]> {
      const deadline = Date.now() + timeoutMs;
      while (seen.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return seen;
    },
    async stop() {
      sub.unsubscribe();
      await done;
    },
  };
}
