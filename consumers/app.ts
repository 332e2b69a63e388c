/**
 * Builds and starts one regional consumer from a parsed config: every client once (pg Pool, ioredis, NATS,
 * provider clients), the JetStream topology, the planner and sender loops for REGION, and the HTTP server.
 * main.ts (the composition root) calls it with the real token buckets; integration tests call it in-process.
 *
 * Shutdown (`stop()`): stop pulling; in-flight chunks stop at their next provider-call boundary, release
 * their unsent claims (rows back to `queued`, claim cleared) and nak, so another consumer picks them up at
 * once. Calls already in flight finish (aborting them would leave "sent but unknown"). After
 * SHUTDOWN_GRACE_SECONDS the remaining calls are aborted and released. Then NATS is drained.
 */
import { setMaxListeners } from "node:events";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import pg from "pg";
import type { Logger } from "pino";
import type { ConsumerConfig } from "./config";
import { startHttpServer } from "./http/server";
import { BatchStatusCache } from "./jobs/batch-status";
import { catalog, type JobDeps } from "./jobs/catalog";
import { EventApplier, startPendingSweep } from "./jobs/events";
import { startPullLoop, type PullLoop } from "./jobs/pull-loop";
import { startReconciler } from "./jobs/reconcile";
import { ResultRecorder } from "./jobs/result-recorder";
import { runJob } from "./jobs/runner";
import type { TakeTokens, TokenRequest } from "./jobs/send-calls";
import { createMetrics, type Metrics } from "./metrics";
import { consumerSpecsFor, ensureTopology } from "./nats/setup";
import { createRegistryFromConfig } from "./providers/platform";
import type { BucketSpec } from "./ratelimit/interface";

export interface TokenTaker {
  bucketsFor: (req: TokenRequest) => BucketSpec[];
  takeTokens: TakeTokens;
}

export interface ConsumerApp {
  port: number;
  metrics: Metrics;
  stop(): Promise<void>;
}

export async function startConsumerApp(config: ConsumerConfig, opts: { log: Logger; tokens: (redis: Redis) => TokenTaker }): Promise<ConsumerApp> {
  const { log } = opts;
  // Timeouts turn a database that does not answer into errors the runner classifies and waits out
  // (consumers/retry.ts), instead of a statement that hangs a chunk forever.
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.SENDER_CONCURRENCY * (catalog.length - 1) + 4,
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
  });
  pool.on("error", (err) => log.error({ err: err.message }, "idle pg client error"));
  // Auto-pipelining: the token takes of all concurrent chunks issued in one event-loop turn go out in one
  // write (ioredis keeps one pipeline in flight and queues the next). Each take keeps its own reply, timeout
  // and NOSCRIPT fallback, so atomicity and fail-closed behaviour are unchanged.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: false, enableAutoPipelining: true });
  redis.on("error", (err) => log.warn({ err: err.message }, "redis error"));
  const nc = await connect({ servers: config.NATS_URL.split(","), name: `consumer-${config.REGION}-${process.pid}`, maxReconnectAttempts: -1 });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureTopology(jsm, config.REGION, config.NATS_STREAM_REPLICAS);

  const metrics = createMetrics({ defaultMetrics: true });
  metrics.setConsumerInfoSource({
    async consumerInfo() {
      return Promise.all(
        consumerSpecsFor(config.REGION).map(async (s) => {
          const i = await jsm.consumers.info(s.stream, s.durable);
          return { durable: s.durable, pending: i.num_pending, ackPending: i.num_ack_pending, redelivered: i.num_redelivered };
        }),
      );
    },
  });
  const providers = createRegistryFromConfig(config);
  const tokens = opts.tokens(redis);
  const hardStop = new AbortController();
  const softStop = new AbortController();
  // Every in-flight provider call listens on this one signal, by design; no leak to warn about.
  setMaxListeners(0, hardStop.signal);
  let stopping = false;

  const http = await startHttpServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    registry: metrics.registry,
    checks: {
      postgres: async () => void (await pool.query("select 1")),
      nats: async () => {
        if (nc.isClosed()) throw new Error("closed");
        await nc.flush();
      },
      redis: async () => void (await redis.ping()),
    },
  });

  const statuses = new BatchStatusCache(pool);
  // One per process: results of all concurrent chunks (every channel) share one statement per flush.
  // Provider events (consumers/jobs/events.ts); the recorder applies events that waited for its send results.
  const events = new EventApplier(pool, { log });
  const recorder = new ResultRecorder(pool, { log, onRecorded: (ids) => events.applyPending(ids) });
  const sweep = startPendingSweep(events, { log });
  const deps: JobDeps = {
    db: pool,
    recorder,
    events,
    js,
    log,
    metrics,
    statuses,
    providers,
    region: config.REGION,
    deployment: config.NATS_URL,
    bucketsFor: tokens.bucketsFor,
    takeTokens: tokens.takeTokens,
    stopping: () => stopping,
    signal: hardStop.signal,
    stopSignal: softStop.signal,
    maxDeliver: 0, // per entry, from its consumer spec (below)
  };
  const runner = { js, log, metrics, stopping: () => stopping, stopSignal: softStop.signal };
  // One pull loop per catalog entry: decode, trace, heartbeat, ack/nak/DLQ all happen in runner.ts.
  const loops: PullLoop[] = [];
  for (const entry of catalog) {
    const spec = entry.consumer(config.REGION);
    loops.push(
      await startPullLoop({
        js,
        stream: spec.stream,
        durable: spec.durable,
        concurrency: entry.concurrency({ senderConcurrency: config.SENDER_CONCURRENCY }),
        log,
        handle: (msg) => runJob(entry, deps, runner, msg, spec.maxDeliver),
      }),
    );
  }
  // Window top-ups, stranded work, cancel settling (consumers/jobs/reconcile.ts).
  const reconciler = startReconciler({ db: pool, js, region: config.REGION, log, deployment: config.NATS_URL });
  log.info({ port: http.port, concurrency: config.SENDER_CONCURRENCY }, "consumer started");


  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      softStop.abort();
      sweep.stop();
      log.info("shutting down: releasing in-flight work");
      const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
      const drained = Promise.all([...loops.map((l) => l.stop()), reconciler.stop()]);
      const timer = setTimeout(() => {
        log.warn("grace period over: aborting in-flight provider calls");
        hardStop.abort();
      }, graceMs);
      await Promise.race([drained, new Promise((r) => setTimeout(r, graceMs + 5000))]);
      clearTimeout(timer);
      // Results still waiting for the database are given up only now (their rows wait for their lease).
      recorder.close();
      await nc.drain().catch((err) => log.warn({ err: (err as Error).message }, "nats drain failed"));
      await http.close();
      await Promise.allSettled([pool.end(), redis.quit()]);
      log.info("stopped");
    })());
  return { port: http.port, metrics, stop };
}
