/**
 * The backing services of the local stack (DESIGN §2, right-hand column): Postgres and Redis (the machine's,
 * or a Redis we start), the project's own nats-server with JetStream and a WebSocket listener, and the local
 * adapters that let unmodified production code talk to them (Neon WebSocket proxy, Upstash REST endpoint),
 * plus the provider sandbox. Anything already listening on its port is reused; whatever we start, we stop.
 * The sandbox runs as a supervised child (dev/sandbox/main.ts, dev/supervisor.ts): if it dies it is restarted
 * with backoff, like the consumers and the edge (its in-memory message store starts empty again).
 *
 * `DATABASE_URL`, `REDIS_URL`, `NATS_URL` + `NATS_WS_URL`, `CLICKHOUSE_URL` from the environment replace the
 * local ones. The local ClickHouse is the chdb engine over HTTP (dev/adapters/clickhouse-http.ts); its
 * migrations are applied here, whichever server it is.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { HOST, LOCAL_UPSTASH_TOKEN, localUrls, portsFor, type Profile, type StackPorts } from "./config";
import { startNeonProxy } from "./adapters/neon-proxy";
import { startUpstashRest } from "./adapters/upstash-rest";
import { startNatsServer, waitForNats } from "./nats-server";
import { SupervisedProcess, tailOf } from "./supervisor";
import { startClickHouseHttp } from "./adapters/clickhouse-http";
import { runClickHouseMigrations } from "../consumers/analytics/migrate";
import { clickHouseFromEnv } from "../consumers/analytics/client";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export type ServiceName = "postgres" | "redis" | "nats" | "neonProxy" | "upstash" | "sandbox" | "clickhouse";
const ALL: ServiceName[] = ["postgres", "redis", "nats", "neonProxy", "upstash", "sandbox", "clickhouse"];

export type LocalUrls = ReturnType<typeof localUrls>;

export interface LocalServices {
  urls: LocalUrls;
  /** What was started by us (the rest was reused), for the banner. */
  started: ServiceName[];
  /** Children restarted when they die (the provider sandbox). */
  supervised: SupervisedProcess[];
  stop(): Promise<void>;
}

/** A clear, single-line reason the stack cannot start (missing binary, service down). */
export class StackError extends Error {
  override name = "StackError";
}

export function isListening(port: number, host = HOST, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export function hasBinary(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

async function waitForPort(port: number, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isListening(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new StackError(`${what} did not start listening on ${HOST}:${port} within ${timeoutMs} ms`);
}

export async function startLocalServices(opts: {
  profile: Profile;
  dataDir: string;
  only?: ServiceName[];
  log?: (line: string) => void;
  /** Another layout than the profile's (a second stack side by side, e.g. in a test). */
  ports?: StackPorts;
  urls?: LocalUrls;
}): Promise<LocalServices> {
  const want = new Set(opts.only ?? ALL);
  const log = opts.log ?? (() => {});
  const ports = opts.ports ?? portsFor(opts.profile);
  const urls = { ...(opts.urls ?? localUrls(opts.profile)) };
  const stops: (() => Promise<void>)[] = [];
  const children: ChildProcess[] = [];
  const started: ServiceName[] = [];
  const supervised: SupervisedProcess[] = [];
  fs.mkdirSync(opts.dataDir, { recursive: true });

  const stop = async () => {
    await Promise.all(supervised.map((s) => s.stop()));
    for (const s of stops.reverse()) await s().catch(() => {});
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  };

  try {
    if (process.env.DATABASE_URL) urls.databaseUrl = process.env.DATABASE_URL;
    const pgUrl = new URL(urls.databaseUrl);
    const pgHost = pgUrl.hostname;
    const pgPort = Number(pgUrl.port || 5432);

    if (want.has("postgres") && !process.env.DATABASE_URL && !(await isListening(pgPort, pgHost))) {
      throw new StackError(
        `PostgreSQL is not listening on ${pgHost}:${pgPort}: install it with "apt-get install -y postgresql" ` +
          `and start it with "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", or set DATABASE_URL`,
      );
    }

    if (want.has("redis")) {
      if (process.env.REDIS_URL) urls.redisUrl = process.env.REDIS_URL;
      else if (!(await isListening(6379))) {
        if (!hasBinary("redis-server")) {
          throw new StackError(`redis-server not found: install it with "apt-get install -y redis-server", or set REDIS_URL`);
        }
        const dir = path.join(opts.dataDir, "redis");
        fs.mkdirSync(dir, { recursive: true });
        const child = spawn(
          "redis-server",
          ["--bind", HOST, "--port", "6379", "--save", "", "--appendonly", "no", "--dir", dir],
          { stdio: "ignore" },
        );
        children.push(child);
        await waitForPort(6379, "redis-server");
        started.push("redis");
        log(`started redis-server (pid ${child.pid}) on ${HOST}:6379`);
      }
    }

    if (want.has("nats")) {
      if (process.env.NATS_URL || process.env.NATS_WS_URL) {
        if (!process.env.NATS_URL || !process.env.NATS_WS_URL) {
          throw new StackError("set both NATS_URL (consumers, TCP) and NATS_WS_URL (edge, WebSocket), or neither");
        }
        urls.natsUrl = process.env.NATS_URL;
        urls.natsWsUrl = process.env.NATS_WS_URL;
      } else if (!(await isListening(ports.natsClient))) {
        if (!hasBinary("nats-server")) {
          throw new StackError(`nats-server not found: install it with "apt-get install -y nats-server", or set NATS_URL and NATS_WS_URL`);
        }
        const { child, logPath } = startNatsServer({
          dataDir: path.join(opts.dataDir, "nats"),
          host: HOST,
          clientPort: ports.natsClient,
          wsPort: ports.natsWebSocket,
          monitorPort: ports.natsMonitor,
        });
        children.push(child);
        await waitForNats(HOST, ports.natsMonitor).catch((err: unknown) => {
          throw new StackError(`${err instanceof Error ? err.message : String(err)} (log: ${logPath})`);
        });
        started.push("nats");
        log(`started nats-server (pid ${child.pid}) on ${urls.natsUrl}, WebSocket ${urls.natsWsUrl}`);
      }
    }

    if (want.has("neonProxy") && !(await isListening(ports.neonProxy))) {
      const proxy = await startNeonProxy({ host: HOST, port: ports.neonProxy, postgresHost: pgHost, postgresPort: pgPort });
      stops.push(proxy.close);
      started.push("neonProxy");
      log(`started Neon WebSocket proxy on ws://${proxy.url} → ${pgHost}:${pgPort}`);
    }

    if (want.has("upstash") && !(await isListening(ports.upstash))) {
      const upstash = await startUpstashRest({
        host: HOST,
        port: ports.upstash,
        redisUrl: urls.redisUrl,
        token: LOCAL_UPSTASH_TOKEN,
      });
      stops.push(upstash.close);
      started.push("upstash");
      log(`started Upstash REST adapter on ${upstash.url}`);
    }

    if (want.has("sandbox") && !(await isListening(ports.sandbox))) {
      const logDir = path.join(opts.dataDir, "logs");
      fs.mkdirSync(logDir, { recursive: true });
      const sandbox = new SupervisedProcess({
        name: "provider sandbox",
        logFile: path.join(logDir, "sandbox.log"),
        command: () => ({
          command: process.execPath,
          args: ["--import", "tsx", path.join(root, "dev/sandbox/main.ts")],
          cwd: root,
          env: { ...process.env, SANDBOX_HOST: HOST, SANDBOX_PORT: String(ports.sandbox) },
        }),
        liveness: { url: `${urls.sandboxUrl}/health`, periodMs: 10_000, timeoutMs: 5_000, failureThreshold: 6 },
        log,
      });
      supervised.push(sandbox.start());
      const deadline = Date.now() + 60_000;
      while (!(await isListening(ports.sandbox))) {
        if (sandbox.exits > 0 || !sandbox.running) {
          throw new StackError(`the provider sandbox exited while starting; see ${sandbox.logFile}:\n${tailOf(sandbox.logFile)}`);
        }
        if (Date.now() > deadline) throw new StackError(`the provider sandbox did not listen on ${urls.sandboxUrl} within 60 s; see ${sandbox.logFile}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      sandbox.markReady();
      started.push("sandbox");
      log(`started provider sandbox (pid ${sandbox.pid}) on ${urls.sandboxUrl}, supervised`);
    }

    if (want.has("clickhouse")) {
      if (process.env.CLICKHOUSE_URL) urls.clickhouseUrl = process.env.CLICKHOUSE_URL;
      else if (!(await isListening(ports.clickhouse))) {
        const ch = await startClickHouseHttp({ host: HOST, port: ports.clickhouse, dataDir: path.join(opts.dataDir, "clickhouse") });
        stops.push(ch.close);
        started.push("clickhouse");
        log(`started local ClickHouse ${ch.version} (chdb) on ${ch.url}`);
      }
      await runClickHouseMigrations(clickHouseFromEnv() ?? { url: urls.clickhouseUrl });
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return { urls, started, supervised, stop };
}
