/**
 * `npm run bench:send` — sending performance, compared in the same run against a floor and a baseline
 * (DESIGN §11, issue 12):
 *
 * 1. Throughput and CPU per send, per provider path (SES one message per call; Resend batch calls of 100;
 *    Telnyx one SMS per call): one consumer process sending a batch, then the FLOOR — a bare loop in its own
 *    process (bench/floor.ts: build the body, sign or set the key, POST; no queue, no database) making the same
 *    calls at the same concurrency to the same sandbox. Every row prints the CPU µs per send of each process
 *    involved (the sender, the sandbox with this driver, the bench database's Postgres backends, Redis, NATS)
 *    and the box total, read from /proc (bench/proc-cpu.ts); then the consumer's ratio to its floor.
 * 2. The same SES batch through a BullMQ worker (bench/bullmq-baseline.ts), for the speed-up.
 * 3. Rate accuracy: four consumer processes (two per region) sharing one 200/s managed SES bucket for 60 s;
 *    the rate the sandbox observed, per second.
 *
 * `--quick` shrinks all of them (for a smoke run); `--only=throughput|rate` runs one phase. Prints tables; asserts nothing. CPU time per send is
 * fairly robust on a busy machine; sends/s is not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Queue } from "bullmq";
import { runMigrations } from "../dev/migrate";
import { Cluster } from "../test/support/cluster";
import { batchRow, createQueuedBatch, createSendConfig, createTenant } from "../test/support/fixtures";
import { measureCpu, peakRssMb, pgBackends, type ProcGroup } from "./proc-cpu";

const quick = process.argv.includes("--quick");
/** `--only=throughput` or `--only=rate` runs one phase (iterating on one of them). */
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const N = quick ? 3_000 : 20_000;
const RATE_SECONDS = quick ? 15 : 60;
const RATE_LIMIT = 200;
const CONCURRENCY = "16";
type BenchProvider = "ses" | "resend" | "telnyx";
/** Telnyx fixtures have 9,000 distinct numbers (test/support/fixtures.ts). */
const sendsFor = (p: BenchProvider) => (p === "telnyx" ? Math.min(N, 9_000) : N);

async function waitCompleted(cluster: Cluster, batchId: string) {
  for (;;) {
    const b = await batchRow(cluster.pool, batchId);
    if (b.status === "completed") return b;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Row {
  provider: string;
  system: string;
  sends: number;
  seconds: number;
  /** CPU ms of each process group over the run. */
  cpu: Map<string, number>;
  peakRssMb: number;
}

/** Every process a send touches; `sender` is the consumer, the floor loop or the BullMQ worker. */
function groups(cluster: Cluster, senderPid: number): ProcGroup[] {
  const { nats, redis } = cluster.serverPids();
  const dbName = new URL(cluster.databaseUrl).pathname.slice(1);
  return [
    { name: "sender", pids: () => [senderPid] },
    { name: "sandbox+driver", pids: () => [process.pid] },
    pgBackends(cluster.pool, dbName),
    { name: "redis", pids: () => (redis ? [redis] : []) },
    { name: "nats", pids: () => (nats ? [nats] : []) },
  ];
}

async function benchConsumer(cluster: Cluster, provider: BenchProvider): Promise<Row> {
  const consumer = await cluster.startConsumer("falkenstein");
  const tenantId = await createTenant(cluster.pool, `bench-${provider}`);
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, provider);
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider, count: sendsFor(provider) });
  const stop = await measureCpu(groups(cluster, consumer.child.pid!));
  const t0 = performance.now();
  await cluster.plan(batchId, tenantId);
  const done = await waitCompleted(cluster, batchId);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await stop();
  const rss = peakRssMb(consumer.child.pid!);
  await cluster.kill(consumer, "SIGTERM");
  return { provider, system: "consumer", sends: done.sent, seconds, cpu, peakRssMb: rss };
}

async function benchFloor(cluster: Cluster, provider: BenchProvider): Promise<Row> {
  const sends = sendsFor(provider);
  const child = spawn(process.execPath, ["--import", "tsx", "bench/floor.ts"], {
    env: { ...process.env, ...cluster.env("falkenstein", 0), FLOOR_PROVIDER: provider, FLOOR_SENDS: String(sends), FLOOR_CONCURRENCY: CONCURRENCY },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = (async function* () {
    let buf = "";
    for await (const c of child.stdout!) {
      buf += String(c);
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, nl);
        buf = buf.slice(nl + 1);
      }
    }
  })();
  if ((await lines.next()).value !== "ready") throw new Error("floor did not start");
  const stop = await measureCpu(groups(cluster, child.pid!));
  const t0 = performance.now();
  child.stdin!.write("go\n");
  const result = JSON.parse((await lines.next()).value as string) as { sent: number; failed: number };
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await stop();
  const rss = peakRssMb(child.pid!);
  const exited = once(child, "exit");
  child.stdin!.end();
  await exited;
  if (result.failed > 0) console.warn(`floor ${provider}: ${result.failed} calls refused by the sandbox`);
  return { provider, system: "floor (bare sign + POST loop)", sends: result.sent, seconds, cpu, peakRssMb: rss };
}

async function benchBullmq(cluster: Cluster): Promise<Row> {
  const tenantId = await createTenant(cluster.pool, "bench-bullmq");
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, "ses");
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider: "ses", count: N });
  await cluster.pool.query("update batches set status = 'processing' where id = $1", [batchId]);
  const { rows } = await cluster.pool.query<{ id: string }>("select id from recipients where batch_id = $1 order by id", [batchId]);
  const queueName = `bench-${batchId.slice(0, 8)}`;
  const redisUrl = `redis://127.0.0.1:${cluster.redisPort}`;
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  // Enqueueing is not timed: the baseline gets its jobs for free, our planner's work is inside our time.
  await queue.addBulk(rows.map((r) => ({ name: "send", data: { batchId, recipientId: Number(r.id) }, opts: { removeOnComplete: true } })));
  const env = cluster.env("falkenstein", 0);
  const worker: ChildProcess = spawn(process.execPath, ["--import", "tsx", "bench/bullmq-baseline.ts"], {
    env: { ...process.env, ...env, BULLMQ_QUEUE: queueName, BULLMQ_CONCURRENCY: env.SENDER_CONCURRENCY ?? CONCURRENCY },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) => worker.stdout!.once("data", () => resolve()));
  const stop = await measureCpu(groups(cluster, worker.pid!));
  const t0 = performance.now();
  const done = await waitCompleted(cluster, batchId);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await stop();
  const rss = peakRssMb(worker.pid!);
  worker.kill("SIGTERM");
  await queue.obliterate({ force: true });
  await queue.close();
  return { provider: "ses", system: "BullMQ worker (job per recipient)", sends: done.sent, seconds, cpu, peakRssMb: rss };
}

const perSend = (r: Row, group: string) => ((r.cpu.get(group) ?? 0) * 1000) / Math.max(1, r.sends);
const boxPerSend = (r: Row) => [...r.cpu.keys()].reduce((s, g) => s + perSend(r, g), 0);

function printRows(rows: Row[]) {
  console.table(
    rows.map((r) => ({
      provider: r.provider,
      system: r.system,
      sends: r.sends,
      seconds: r.seconds.toFixed(1),
      "sends/s": (r.sends / r.seconds).toFixed(0),
      "sender µs/send": perSend(r, "sender").toFixed(0),
      "sandbox+driver": perSend(r, "sandbox+driver").toFixed(0),
      postgres: perSend(r, "postgres").toFixed(0),
      redis: perSend(r, "redis").toFixed(0),
      nats: perSend(r, "nats").toFixed(0),
      "box µs/send": boxPerSend(r).toFixed(0),
      "peak RSS MB": r.peakRssMb.toFixed(0),
    })),
  );
}

async function benchRate(): Promise<{ perSecond: number[]; mean: number; max: number }> {
  const cluster = await new Cluster({
    MANAGED_SES_RPS: String(RATE_LIMIT),
    MANAGED_SHARE_FALKENSTEIN: "0.5",
    TENANT_SEND_RPS: "100000",
    LOG_LEVEL: "warn",
  }).start();
  try {
    for (const region of ["falkenstein", "falkenstein", "ashburn", "ashburn"] as const) await cluster.startConsumer(region);
    const tenantId = await createTenant(cluster.pool, "bench-rate");
    const sendConfigId = await createSendConfig(cluster.pool, tenantId, "ses");
    const perRegion = Math.ceil((RATE_LIMIT / 2) * (RATE_SECONDS + 10));
    const batches = [];
    for (const region of ["falkenstein", "ashburn"] as const) {
      const id = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider: "ses", count: perRegion, region, offset: region === "ashburn" ? perRegion : 0 });
      batches.push(id);
      await cluster.plan(id, tenantId, region);
    }
    // Skip the first 3 s (the buckets start full: their burst is not the sustained rate), then count 1-s bins.
    const start = Date.now() + 3000;
    await new Promise((r) => setTimeout(r, 3000 + RATE_SECONDS * 1000 + 500));
    const bins = new Array<number>(RATE_SECONDS).fill(0);
    for (const id of batches) {
      for (const m of cluster.sandbox.messages({ batchId: id })) {
        const bin = Math.floor((m.receivedAtMs - start) / 1000);
        if (bin >= 0 && bin < RATE_SECONDS) bins[bin]! += 1;
      }
    }
    const mean = bins.reduce((a, b) => a + b, 0) / bins.length;
    return { perSecond: bins, mean, max: Math.max(...bins) };
  } finally {
    await cluster.stop();
  }
}

async function main() {
  if (only !== "rate") await throughput();
  if (only !== "throughput") await rateAccuracy();
}

async function throughput() {
  const cluster = new Cluster({
    MANAGED_SES_RPS: "1000000",
    MANAGED_RESEND_RPS: "1000000",
    MANAGED_TELNYX_RPS: "1000000",
    TENANT_SEND_RPS: "1000000",
    LOG_LEVEL: "warn",
    SENDER_CONCURRENCY: CONCURRENCY,
  });
  await runMigrations(cluster.databaseUrl);
  await cluster.start();
  const rows: Row[] = [];
  try {
    for (const provider of ["ses", "resend", "telnyx"] as const) {
      console.log(`throughput: ${sendsFor(provider)} ${provider} recipients, zero-latency sandbox, concurrency ${CONCURRENCY}…`);
      rows.push(await benchConsumer(cluster, provider), await benchFloor(cluster, provider));
    }
    rows.push(await benchBullmq(cluster));
  } finally {
    await cluster.stop();
  }
  printRows(rows);
  for (const provider of ["ses", "resend", "telnyx"] as const) {
    const [ours, floor] = rows.filter((r) => r.provider === provider);
    console.log(
      `${provider}: consumer ${perSend(ours!, "sender").toFixed(0)} µs/send = ${(perSend(ours!, "sender") / perSend(floor!, "sender")).toFixed(2)}× the floor's ${perSend(floor!, "sender").toFixed(0)} (goal ≤ 1.3×); box ${boxPerSend(ours!).toFixed(0)} vs ${boxPerSend(floor!).toFixed(0)} µs/send`,
    );
  }
  const ses = rows[0]!;
  const bull = rows[rows.length - 1]!;
  console.log(`speed-up vs BullMQ: ${(ses.sends / ses.seconds / (bull.sends / bull.seconds)).toFixed(2)}× (goal ≥ 3×); CPU per send ${(perSend(bull, "sender") / perSend(ses, "sender")).toFixed(2)}× lower`);
}

async function rateAccuracy() {
  console.log(`\nrate accuracy: 4 consumers (2 per region) sharing a ${RATE_LIMIT}/s managed SES bucket for ${RATE_SECONDS} s…`);
  const rate = await benchRate();
  console.table([
    {
      "limit /s": RATE_LIMIT,
      "observed mean /s": rate.mean.toFixed(1),
      "mean % of limit": ((rate.mean / RATE_LIMIT) * 100).toFixed(1),
      "max second": rate.max,
      "max % of limit": ((rate.max / RATE_LIMIT) * 100).toFixed(1),
    },
  ]);
  console.log(`per second: ${rate.perSecond.join(" ")}`);
  console.log("goal: mean between 97% and 100% of the limit, no second above 105%");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
