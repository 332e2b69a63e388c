/**
 * `npm run bench:send` — sending performance, compared in the same run against a baseline (DESIGN §11):
 *
 * 1. Throughput: one consumer process vs one BullMQ worker process (bench/bullmq-baseline.ts) doing the same
 *    claim → render → SES send → record work, same Postgres, same Redis, same zero-latency sandbox.
 *    Also CPU milliseconds and peak RSS per 1,000 sends for both.
 * 2. Rate accuracy: four consumer processes (two per region) sharing one 200/s managed SES bucket for 60 s;
 *    the rate the sandbox observed, per second.
 *
 * `--quick` shrinks both (for a smoke run). Prints tables; asserts nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { Queue } from "bullmq";
import { runMigrations } from "../dev/migrate";
import { Cluster } from "../test/support/cluster";
import { batchRow, createQueuedBatch, createSendConfig, createTenant } from "../test/support/fixtures";

const quick = process.argv.includes("--quick");
const N = quick ? 3_000 : 20_000;
const RATE_SECONDS = quick ? 15 : 60;
const RATE_LIMIT = 200;

function procStats(pid: number): { cpuMs: number; peakRssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / 100, peakRssMb: hwm / 1024 };
}

async function waitCompleted(cluster: Cluster, batchId: string) {
  for (;;) {
    const b = await batchRow(cluster.pool, batchId);
    if (b.status === "completed") return b;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Row {
  system: string;
  sends: number;
  seconds: number;
  perSecond: number;
  cpuMsPer1k: number;
  peakRssMb: number;
}

async function benchConsumer(cluster: Cluster): Promise<Row> {
  const consumer = await cluster.startConsumer("falkenstein");
  const tenantId = await createTenant(cluster.pool, "bench");
  const sendConfigId = await createSendConfig(cluster.pool, tenantId, "ses");
  const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider: "ses", count: N });
  const before = procStats(consumer.child.pid!);
  const t0 = performance.now();
  await cluster.plan(batchId, tenantId);
  const done = await waitCompleted(cluster, batchId);
  const seconds = (performance.now() - t0) / 1000;
  const after = procStats(consumer.child.pid!);
  await cluster.kill(consumer, "SIGTERM");
  return {
    system: "BatchSender consumer (NATS, chunks of 50)",
    sends: done.sent,
    seconds,
    perSecond: done.sent / seconds,
    cpuMsPer1k: ((after.cpuMs - before.cpuMs) / done.sent) * 1000,
    peakRssMb: after.peakRssMb,
  };
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
    env: { ...process.env, ...env, BULLMQ_QUEUE: queueName, BULLMQ_CONCURRENCY: env.SENDER_CONCURRENCY ?? "16" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) => worker.stdout!.once("data", () => resolve()));
  const before = procStats(worker.pid!);
  const t0 = performance.now();
  const done = await waitCompleted(cluster, batchId);
  const seconds = (performance.now() - t0) / 1000;
  const after = procStats(worker.pid!);
  worker.kill("SIGTERM");
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    system: "BullMQ worker (job per recipient)",
    sends: done.sent,
    seconds,
    perSecond: done.sent / seconds,
    cpuMsPer1k: ((after.cpuMs - before.cpuMs) / done.sent) * 1000,
    peakRssMb: after.peakRssMb,
  };
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
  const cluster = new Cluster({ MANAGED_SES_RPS: "1000000", TENANT_SEND_RPS: "1000000", LOG_LEVEL: "warn", SENDER_CONCURRENCY: "16" });
  await runMigrations(cluster.databaseUrl);
  await cluster.start();
  let rows: Row[];
  try {
    console.log(`throughput: ${N} SES recipients, zero-latency sandbox, one process each…`);
    const ours = await benchConsumer(cluster);
    const baseline = await benchBullmq(cluster);
    rows = [ours, baseline];
  } finally {
    await cluster.stop();
  }
  console.table(
    rows.map((r) => ({
      system: r.system,
      sends: r.sends,
      seconds: r.seconds.toFixed(1),
      "sends/s": r.perSecond.toFixed(0),
      "CPU ms / 1k sends": r.cpuMsPer1k.toFixed(0),
      "peak RSS MB": r.peakRssMb.toFixed(0),
    })),
  );
  console.log(`speed-up vs BullMQ: ${(rows[0]!.perSecond / rows[1]!.perSecond).toFixed(2)}× (goal ≥ 2×)`);

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
