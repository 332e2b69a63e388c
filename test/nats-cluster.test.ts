// Issue 10, "Proof": the production NATS shape, run locally — three clustered nats-server processes
// (routes on 127.0.0.1), JetStream on file storage with the storage/fsync setting of the k8s manifests, the
// streams at replicas 3 (NATS_STREAM_REPLICAS=3, as k8s/base/consumer-config.yaml sets), real compiled
// consumer processes; the node leading the SENDS stream is kill -9'd mid-batch and restarted on the same
// store. The batch completes, nobody is lost, nobody is sent twice (Resend and Telnyx dedupe by key, so any
// second provider call would show up as a second sandbox message).
//
// sync_interval: the manifests choose `always` (k8s/base/nats-config.yaml). Debian's nats-server 2.9.10
// predates that setting (2.10+) and rejects it, so on such a server this test runs without it and says so.
// kill -9 of a process does not drop the OS page cache either way: what this proves is the R3 replication
// and the consumers' failover across nodes; `always` is about power loss, which no local test can stage.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { streams, type Region } from "../core/contract";
import { startSandbox } from "../dev/sandbox/server";
import { Cluster, freePort } from "./support/cluster";
import { batchRow, createQueuedBatch, createSendConfig, createTenant, recipientStatusCounts, type TestProvider } from "./support/fixtures";
import { waitFor } from "./support/stack";

const root = path.resolve(import.meta.dirname, "..");

/** The `jetstream { … }` settings the k8s manifests give production NATS (storage and fsync lines). */
function manifestJetStreamSettings(): { syncInterval?: string } {
  const docs = parseAllDocuments(fs.readFileSync(path.join(root, "k8s/base/nats-config.yaml"), "utf8")).map((d) => d.toJSON());
  const conf = docs.find((d) => d?.metadata?.name === "nats-config").data["nats.conf"] as string;
  const block = /jetstream\s*\{([^}]*)\}/.exec(conf)?.[1] ?? "";
  return { syncInterval: /sync_interval:\s*(\S+)/.exec(block)?.[1] };
}

interface Node {
  name: string;
  clientPort: number;
  monitorPort: number;
  clusterPort: number;
  dir: string;
  configPath: string;
  child?: ChildProcess;
}

class NatsTripletCluster extends Cluster {
  readonly nodes: Node[] = [];
  syncIntervalApplied: string | undefined;

  get natsUrls(): string {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`).join(",");
  }

  override async start(): Promise<this> {
    for (const name of ["n1", "n2", "n3"]) {
      const dir = path.join(this.dir, name);
      fs.mkdirSync(dir, { recursive: true });
      this.nodes.push({ name, clientPort: await freePort(), monitorPort: await freePort(), clusterPort: await freePort(), dir, configPath: path.join(dir, "nats.conf") });
    }
    const { syncInterval } = manifestJetStreamSettings();
    this.syncIntervalApplied = syncInterval && this.serverAccepts(`sync_interval: ${syncInterval}`) ? syncInterval : undefined;
    if (syncInterval && !this.syncIntervalApplied) {
      console.warn(`nats-server here rejects "sync_interval: ${syncInterval}" (needs 2.10+): the cluster runs with the server's default fsync`);
    }
    for (const n of this.nodes) {
      fs.writeFileSync(n.configPath, this.config(n));
      this.startNode(n);
    }
    for (const n of this.nodes) await this.waitHealthy(n);
    this.natsPort = this.nodes[0]!.clientPort;
    this.nc = await connect({ servers: this.natsUrls.split(","), maxReconnectAttempts: -1 });
    this.redisPort = await freePort();
    await this.startRedis();
    this.sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
    return this;
  }

  private config(n: Node): string {
    return [
      `server_name: ${n.name}`,
      `listen: "127.0.0.1:${n.clientPort}"`,
      `http: "127.0.0.1:${n.monitorPort}"`,
      `jetstream {`,
      `  store_dir: "${path.join(n.dir, "jetstream")}"`,
      `  max_memory_store: 64MB`,
      `  max_file_store: 1GB`,
      ...(this.syncIntervalApplied ? [`  sync_interval: ${this.syncIntervalApplied}`] : []),
      `}`,
      `cluster {`,
      `  name: local-r3`,
      `  listen: "127.0.0.1:${n.clusterPort}"`,
      `  routes: [${this.nodes.map((m) => `"nats://127.0.0.1:${m.clusterPort}"`).join(", ")}]`,
      `}`,
      "",
    ].join("\n");
  }

  private serverAccepts(jetstreamLine: string): boolean {
    const probe = path.join(this.dir, "probe.conf");
    fs.writeFileSync(probe, `listen: "127.0.0.1:1"\njetstream {\n  store_dir: "${path.join(this.dir, "probe")}"\n  ${jetstreamLine}\n}\n`);
    return spawnSync("nats-server", ["-c", probe, "-t"], { stdio: "ignore" }).status === 0;
  }

  startNode(n: Node): void {
    n.child = spawn("nats-server", ["-c", n.configPath, "-l", path.join(n.dir, "nats.log")], { stdio: "ignore" });
  }

  async waitHealthy(n: Node): Promise<void> {
    await waitFor(
      `${n.name} healthy`,
      async () => {
        const res = await fetch(`http://127.0.0.1:${n.monitorPort}/healthz`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      60_000,
      200,
    );
  }

  async killNode(n: Node): Promise<void> {
    const child = n.child!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  override env(region: Region, port: number): Record<string, string> {
    return { ...super.env(region, port), NATS_URL: this.natsUrls, NATS_STREAM_REPLICAS: "3" };
  }

  override async stop(): Promise<void> {
    for (const c of this.consumers) await this.kill(c, "SIGKILL");
    await this.nc?.close().catch(() => {});
    for (const n of this.nodes) await this.killNode(n);
    await super.stop();
  }
}

const cluster = new NatsTripletCluster({
  SENDER_CONCURRENCY: "8",
  MANAGED_SES_RPS: "5000",
  MANAGED_RESEND_RPS: "200",
  MANAGED_TELNYX_RPS: "400",
  TENANT_SEND_RPS: "100000",
  LOG_LEVEL: "warn",
});

beforeAll(async () => {
  await cluster.start();
}, 120_000);
afterAll(() => cluster.stop(), 120_000);

async function newBatch(provider: TestProvider, count: number) {
  const tenantId = await createTenant(cluster.pool, `r3-${provider}`);
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, provider);
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider, count });
  return { tenantId, batchId };
}

describe("three clustered nats-servers, streams at R3", () => {
  it("kill -9 of the SENDS leader mid-batch and its restart: the batch completes, nothing lost, nothing sent twice", async () => {
    await cluster.sandbox.reset();
    const consumers = [await cluster.startConsumer(), await cluster.startConsumer()];
    const jsm = await jetstreamManager(cluster.nc);
    for (const s of Object.values(streams)) {
      const info = await jsm.streams.info(s.name);
      expect(info.config.num_replicas, `${s.name} replicas`).toBe(3);
      expect(info.config.storage).toBe("file");
    }

    const batches = { resend: await newBatch("resend", 3000), telnyx: await newBatch("telnyx", 2000) };
    for (const b of Object.values(batches)) await cluster.plan(b.batchId, b.tenantId);
    const total = 5000;

    // Mid-batch: some sent, most not.
    await waitFor("a tenth of the batch sent", async () => (cluster.sandbox.messages({}).length >= total / 10 ? true : undefined), 120_000, 50);
    const leaderName = (await jsm.streams.info(streams.sends.name)).cluster?.leader;
    const victim = cluster.nodes.find((n) => n.name === leaderName)!;
    expect(victim, `leader ${leaderName} is one of ours`).toBeDefined();
    const sentAtKill = cluster.sandbox.messages({}).length;
    await cluster.killNode(victim);
    expect(sentAtKill).toBeLessThan(total);

    // The others elect a new leader and the consumers carry on through them.
    await waitFor(
      "SENDS has a new leader",
      async () => {
        const info = await jsm.streams.info(streams.sends.name).catch(() => undefined);
        const leader = info?.cluster?.leader;
        return leader && leader !== victim.name ? leader : undefined;
      },
      60_000,
      250,
    );
    // …and sending goes on while the node is down (two of three replicas are a quorum).
    await waitFor(
      "sends continue with one node down",
      async () => (cluster.sandbox.messages({}).length >= Math.min(total, sentAtKill + 200) ? true : undefined),
      120_000,
      100,
    );
    const sentWhileDown = cluster.sandbox.messages({}).length - sentAtKill;
    cluster.startNode(victim);
    await cluster.waitHealthy(victim);

    for (const [provider, b] of Object.entries(batches)) {
      const done = await waitFor(
        `${provider} batch completed`,
        async () => {
          const row = await batchRow(cluster.pool, b.batchId);
          return row.status === "completed" ? row : undefined;
        },
        300_000,
        250,
      );
      expect(done, provider).toMatchObject({ sent: done.total, failed: 0, queued: 0 });
      expect(await recipientStatusCounts(cluster.pool, b.batchId), provider).toEqual({ sent: done.total });
      const per = new Map<string, number>();
      for (const m of cluster.sandbox.messages({ batchId: b.batchId })) per.set(m.to, (per.get(m.to) ?? 0) + 1);
      expect(per.size, `${provider}: every recipient reached the provider`).toBe(done.total);
      expect([...per.values()].filter((c) => c > 1), `${provider}: nobody twice`).toEqual([]);
    }

    // The restarted node caught up: SENDS is whole again on three replicas, and the work queue is empty.
    await waitFor(
      "SENDS replicas current",
      async () => {
        const info = await jsm.streams.info(streams.sends.name);
        const replicas = info.cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((r) => r.current && !r.offline) && info.state.messages === 0 ? true : undefined;
      },
      60_000,
      500,
    );
    console.log(
      `R3 kill -9: ${victim.name} (SENDS leader) killed after ${sentAtKill}/${total} sends, ${sentWhileDown} sent while it was down; sync_interval ${cluster.syncIntervalApplied ?? "server default (setting unsupported here)"}`,
    );
    for (const c of consumers) await cluster.kill(c, "SIGTERM");
  }, 600_000);
});
