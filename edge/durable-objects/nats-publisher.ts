/**
 * One instance per region (`idFromName(region)`) holding ONE WebSocket connection to that region's NATS and a
 * JetStream client. workerd does not let a Worker request reuse another request's socket, but a Durable
 * Object may keep one across calls, so every publish in the region funnels through here (DESIGN §12).
 *
 * A publish waits for the JetStream ack. On a timeout or connection error the connection is closed, rebuilt
 * and the publish retried once; a publish may therefore land twice, which is fine: consumers dedupe in
 * Postgres (guarded transitions and claims), never through `Nats-Msg-Id` (DESIGN §4).
 */
import { DurableObject } from "cloudflare:workers";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, wsconnect, type NatsConnection } from "@nats-io/nats-core";
import { Region } from "../../core/contract";
import { loadConfig, natsUrlFor, type Bindings } from "../env";
import { ConnectionSlot } from "./connection-slot";

const ACK_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;

interface Connection {
  nc: NatsConnection;
  js: JetStreamClient;
}

export class NatsPublisher extends DurableObject<Bindings> {
  private slot?: ConnectionSlot<Connection>;

  async publish(subject: string, data: string, headers: Record<string, string>): Promise<{ stream: string; seq: number }> {
    const used = this.natsFor(subject);
    try {
      return await this.publishOn(used, subject, data, headers);
    } catch (first) {
      console.warn(`nats publish to ${subject} failed, reconnecting and retrying once: ${String(first)}`);
      // Only the connection this publish used: another publish may already have opened a newer one.
      await this.slot!.reset(used);
      return await this.publishOn(this.natsFor(subject), subject, data, headers);
    }
  }

  private async publishOn(connection: Promise<Connection>, subject: string, data: string, headers: Record<string, string>) {
    const { js } = await connection;
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    const ack = await js.publish(subject, data, { headers: h, timeout: ACK_TIMEOUT_MS });
    return { stream: ack.stream, seq: ack.seq };
  }

  /** The region is the object's name; older runtimes without `id.name` fall back to the subject's token. */
  private region(subject: string): Region {
    return Region.parse(this.ctx.id.name ?? subject.split(".")[1]);
  }

  private natsFor(subject: string): Promise<Connection> {
    if (!this.slot) {
      const config = loadConfig(this.env);
      const region = this.region(subject);
      this.slot = new ConnectionSlot<Connection>(
        async () => {
          const nc = await wsconnect({
            servers: natsUrlFor(config, region),
            name: `batchsender-edge-${region}`,
            timeout: CONNECT_TIMEOUT_MS,
            // Reconnects are ours (reset + retry), so a dead socket surfaces as an error instead of a silent wait.
            reconnect: false,
            ...(config.NATS_TOKEN ? { token: config.NATS_TOKEN } : {}),
            ...(config.NATS_USER ? { user: config.NATS_USER, pass: config.NATS_PASS } : {}),
          });
          return { nc, js: jetstream(nc) };
        },
        async ({ nc }) => {
          await nc.close();
        },
        ({ nc }) => nc.closed(),
      );
    }
    return this.slot.get();
  }
}
