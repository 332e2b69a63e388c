/**
 * A private delivery cluster for fault tests: its own nats-server and redis-server (so a test may kill them),
 * its own provider sandbox (so fault injection touches nobody else), the shared test Postgres, and consumer
 * processes (the compiled `dist/consumers/main.js`, exactly as deployed) that the test can SIGKILL, SIGTERM and
 * restart.
 * Batches are written straight into Postgres and announced on NATS, as the edge would do.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import pg from "pg";
import { subjects, TRACE_HEADER, type Region } from "../../core/contract";
import { startNatsServer, waitForNats } from "../../dev/nats-server";
import { startSandbox } from "../../dev/sandbox/server";
import { compiledConsumerArgs, ensureBuilt } from "../../dev/build";
import { consumerEnv } from "../../dev/stack";
import { localUrls } from "../../dev/config";
import { runMigrations } from "../../dev/migrate";

/**
 * The cluster's own database (`<test database>_cluster`, recreated by `start()`): the consumers' reconciler
 * scans Postgres for the batches of its region, so the test stack's consumers must not see the cluster's
 * batches (and the cluster's consumers must not see the stack's), exactly as two deployments would not.
 */
function clusterDatabaseUrl(): string {
  const url = new URL(localUrls("test").databaseUrl);
  url.pathname = `${url.pathname}_cluster`;
  return url.toString();
}

async function recreateDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`refusing to recreate a database named ${name}`);
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
  await runMigrations(databaseUrl);
}

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface ConsumerProc {
  region: Region;
  port: number;
  child: ChildProcess;
  logFile: string;
}

export class Cluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "bs-cluster-"));
  readonly databaseUrl = clusterDatabaseUrl();
  readonly pool = new pg.Pool({ connectionString: this.databaseUrl, max: 4 });
  sandbox!: Sandbox;
  nc!: NatsConnection;
  natsPort = 0;
  redisPort = 0;
  private nats?: ChildProcess;
  private redis?: ChildProcess;
  readonly consumers: ConsumerProc[] = [];

  constructor(private readonly extraEnv: Record<string, string> = {}) {}

  async start(): Promise<this> {
    await recreateDatabase(this.databaseUrl);
    this.natsPort = await freePort();
    const monitor = await freePort();
    const ws = await freePort();
    this.nats = startNatsServer({
      dataDir: path.join(this.dir, "nats"),
      host: "127.0.0.1",
      clientPort: this.natsPort,
      wsPort: ws,
      monitorPort: monitor,
    }).child;
    await waitForNats("127.0.0.1", monitor);
    this.nc = await connect({ servers: `nats://127.0.0.1:${this.natsPort}` });
    this.redisPort = await freePort();
    await this.startRedis();
    this.sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
    return this;
  }

  /** The cluster's own server processes (benchmarks read their CPU time from /proc). */
  serverPids(): { nats?: number; redis?: number } {
    return { nats: this.nats?.pid, redis: this.redis?.pid };
  }

  async startRedis(): Promise<void> {
    this.redis = spawn(
      "redis-server",
      ["--bind", "127.0.0.1", "--port", String(this.redisPort), "--save", "", "--appendonly", "no", "--dir", this.dir],
      { stdio: "ignore" },
    );
    await waitUntil("redis-server", () => isOpen(this.redisPort));
  }

  async stopRedis(): Promise<void> {
    const r = this.redis;
    if (!r || r.exitCode !== null) return;
    const exited = new Promise((res) => r.once("exit", res));
    r.kill("SIGKILL");
    await exited;
  }

  env(region: Region, port: number): Record<string, string> {
    const urls = { ...localUrls("test"), sandboxUrl: this.sandbox.url, databaseUrl: this.databaseUrl };
    return {
      ...consumerEnv(urls, region, port),
      NATS_URL: `nats://127.0.0.1:${this.natsPort}`,
      REDIS_URL: `redis://127.0.0.1:${this.redisPort}`,
      ...this.extraEnv,
    };
  }

  async startConsumer(region: Region = "falkenstein", env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ConsumerProc> {
    const port = await freePort();
    const logFile = path.join(this.dir, `consumer-${this.consumers.length}.log`);
    const out = fs.openSync(logFile, "a");
    await ensureBuilt();
    const child = spawn(process.execPath, [...nodeArgs, ...compiledConsumerArgs()], {
      env: { ...process.env, ...this.env(region, port), ...env },
      stdio: ["ignore", out, out],
    });
    const proc = { region, port, child, logFile };
    this.consumers.push(proc);
    await waitUntil(`consumer on ${port} ready (log ${logFile})`, async () => {
      if (child.exitCode !== null) throw new Error(`consumer exited: ${fs.readFileSync(logFile, "utf8").slice(-2000)}`);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      return res.ok;
    });
    return proc;
  }

  async kill(proc: ConsumerProc, signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
    const exited = new Promise<number | null>((res) => proc.child.once("exit", (code) => res(code)));
    proc.child.kill(signal);
    return exited;
  }

  /** Publishes the plan message the edge would publish for a queued batch. */
  async plan(batchId: string, tenantId: string, region: Region = "falkenstein"): Promise<void> {
    const h = natsHeaders();
    h.set(TRACE_HEADER, `test-${batchId}`);
    await jetstream(this.nc).publish(subjects.plan(region), JSON.stringify({ batchId, tenantId }), { headers: h });
  }

  async stop(): Promise<void> {
    for (const c of this.consumers) await this.kill(c, "SIGKILL");
    await this.nc?.close().catch(() => {});
    await this.sandbox?.close();
    await this.stopRedis();
    if (this.nats && this.nats.exitCode === null) {
      const exited = new Promise((res) => this.nats!.once("exit", res));
      this.nats.kill("SIGTERM");
      await exited;
    }
    await this.pool.end();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function isOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
