/**
 * Publishing to a region's JetStream. The edge never holds a NATS connection itself: one NatsPublisher
 * Durable Object per region does (DESIGN §12), and this is the small interface verbs depend on.
 */
import type { Region } from "../../core/contract";
import type { NatsPublisher } from "../durable-objects/nats-publisher";

export interface PubAck {
  stream: string;
  seq: number;
}

export interface Publisher {
  publish(region: Region, subject: string, data: string, headers: Record<string, string>): Promise<PubAck>;
}

/** Upper bound for one publish through the DO (its own ack timeout plus one reconnect and retry). */
const PUBLISH_DEADLINE_MS = 12_000;

export function durableObjectPublisher(ns: DurableObjectNamespace<NatsPublisher>): Publisher {
  return {
    async publish(region, subject, data, headers) {
      const stub = ns.get(ns.idFromName(region));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`publish to ${region} timed out`)), PUBLISH_DEADLINE_MS);
      });
      try {
        const ack = await Promise.race([stub.publish(subject, data, headers), deadline]);
        return { stream: ack.stream, seq: ack.seq };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
