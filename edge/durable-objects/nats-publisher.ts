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

const ACK_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;

interface Connection {
  nc: NatsConnection;
  js: JetStreamClient;
}

export class NatsPublisher extends DurableObject<Bindings> {
  private connection?: Promise<Connection>;

  async publish(subject: string, data: string, headers: Record<string, string>): Promise<{ stream: string; seq: number }> {
    try {
      return await this.publishOnce(subject, data, headers);
    } catch (first) {
      console.warn(`nats publish to ${subject} failed, reconnecting and retrying once: ${String(first)}`);
      await this.reset();
      return await this.publishOnce(subject, data, headers);
    }
  }

  private async publishOnce(subject: string, data: string, headers: Record<string, string>) {
    const { js } = await this.natsFor(subject);
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
    if (this.connection) return this.connection;
    const config = loadConfig(this.env);
    const pending = (async () => {
      const nc = await wsconnect({
        servers: natsUrlFor(config, this.region(subject)),
        name: `batchsender-edge-${this.region(subject)}`,
        timeout: CONNECT_TIMEOUT_MS,
        // Reconnects are ours (reset + retry), so a dead socket surfaces as an error instead of a silent wait.
        reconnect: false,
        ...(config.NATS_TOKEN ? { token: config.NATS_TOKEN } : {}),
        ...(config.NATS_USER ? { user: config.NATS_USER, pass: config.NATS_PASS } : {}),
      });
      // A closed connection is forgotten so the next publish dials again.
      void nc.closed().then(() => {
        if (this.connection === pending) this.connection = undefined;
      });
      return { nc, js: jetstream(nc) };
    })();
    pending.catch(() => {
      if (this.connection === pending) this.connection = undefined;
    });
    this.connection = pending;
    return pending;
  }

  private async reset(): Promise<void> {
    const current = this.connection;
    this.connection = undefined;
    if (!current) return;
    try {
      const { nc } = await current;
      await nc.close();
    } catch {
      // Already broken; nothing to close.
    }
  }
}
