/**
 * A bounded-concurrency pull loop over one durable consumer: it fetches only as many messages as it has
 * free slots, so no message waits in a local buffer while its ack-wait clock runs. `stop()` ends pulling;
 * messages that arrive after it are nak'ed at once so another consumer takes them.
 */
import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";

export interface PullLoop {
  /** Stops fetching; resolves when in-flight handlers have finished. */
  stop(): Promise<void>;
  inFlight(): number;
}

export async function startPullLoop(opts: {
  js: JetStreamClient;
  stream: string;
  durable: string;
  concurrency: number;
  log: Logger;
  handle: (msg: JsMsg) => Promise<unknown>;
  fetchExpiresMs?: number;
}): Promise<PullLoop> {
  const consumer = await opts.js.consumers.get(opts.stream, opts.durable);
  const inFlight = new Set<Promise<unknown>>();
  let running = true;
  let current: ConsumerMessages | undefined;

  const loop = (async () => {
    while (running) {
      const free = opts.concurrency - inFlight.size;
      if (free <= 0) {
        await Promise.race(inFlight);
        continue;
      }
      try {
        current = await consumer.fetch({ max_messages: free, expires: opts.fetchExpiresMs ?? 1000 });
        for await (const m of current) {
          if (!running) {
            m.nak();
            continue;
          }
          const p: Promise<unknown> = opts
            .handle(m)
            .catch((err) => opts.log.error({ err: (err as Error).message, durable: opts.durable }, "handler failed"))
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      } catch (err) {
        if (!running) break;
        opts.log.warn({ err: (err as Error).message, durable: opts.durable }, "fetch failed; retrying");
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  return {
    inFlight: () => inFlight.size,
    async stop() {
      running = false;
      current?.stop();
      await loop;
      await Promise.all(inFlight);
    },
  };
}
