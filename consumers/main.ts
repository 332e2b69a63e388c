/**
 * Composition root of one regional consumer process (CONVENTIONS 1): parse config (exit 1 on bad config),
 * start the consumer (app.ts) with the real Redis token buckets, and on SIGTERM/SIGINT stop pulling,
 * release or finish in-flight claims within SHUTDOWN_GRACE_SECONDS, drain NATS and exit 0.
 */
import pino from "pino";
import { startConsumerApp } from "./app";
import { loadConfig } from "./config";
import { createTokenTaker } from "./rate-limits";

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL, base: { service: "consumer", region: config.REGION, pid: process.pid } });

async function main() {
  const app = await startConsumerApp(config, { log, tokens: (redis) => createTokenTaker(redis, process.env, config.REGION) });
  const shutdown = (signal: string) => {
    log.info({ signal }, "signal received");
    app.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err: (err as Error).message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  log.fatal({ err: (err as Error).message, stack: (err as Error).stack }, "consumer failed to start");
  process.exit(1);
});
