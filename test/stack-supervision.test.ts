/**
 * Issue 6, scenario 7: under `npm start`, `kill -9` of a consumer mid-batch must not strand its region. This
 * starts a second stack with the very code `npm start` runs (`startStack` from dev/stack.ts, two consumers per
 * region), on free ports, its own data folder and database, beside the test stack `npm test` already runs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseNameFor, redisDbFor, type StackPorts } from "../dev/config";
import { isListening } from "../dev/services";
import { startStack, type StackInfo } from "../dev/stack";
import { freePort } from "./support/cluster";
import { createSendConfig } from "./support/fixtures";
import { apiClient, waitFor } from "./support/stack";

// The test takes ~100 s: a SIGKILLed consumer's rows stay claimed until their lease (60 s) runs out.
const RECIPIENTS = 1500;
/** Paces the batch to several seconds: the tenant bucket, not the provider, is the bottleneck. */
const TENANT_SEND_RPS = "150";

async function freeLayoutPorts(): Promise<StackPorts> {
  for (;;) {
    const ports: StackPorts = {
      edge: await freePort(),
      sandbox: await freePort(),
      neonProxy: await freePort(),
      upstash: await freePort(),
      natsClient: await freePort(),
      natsWebSocket: await freePort(),
      natsMonitor: await freePort(),
      clickhouse: await freePort(),
      consumerFalkenstein: await freePort(),
      consumerAshburn: await freePort(),
    };
    // Derived ports: the second consumer of each region (+2) and the edge's inspector (+442).
    const derived = [ports.consumerFalkenstein + 2, ports.consumerAshburn + 2, ports.edge + 442];
    const all = [...Object.values(ports), ...derived];
    if (new Set(all).size !== all.length) continue;
    if ((await Promise.all(derived.map((p) => isListening(p)))).some(Boolean)) continue;
    return ports;
  }
}

let stack: Awaited<ReturnType<typeof startStack>> | undefined;
let info: StackInfo;
const stackLog: string[] = [];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bs-supervised-"));

beforeAll(async () => {
  stack = await startStack("test", (line) => stackLog.push(line), {
    layout: { ports: await freeLayoutPorts(), dataDir, databaseName: `${databaseNameFor("test")}_supervised`, redisDb: redisDbFor("test") },
    consumersPerRegion: 2,
    consumerEnv: { TENANT_SEND_RPS },
    backoff: { initialMs: 500, maxMs: 5_000, resetAfterMs: 60_000 },
  });
  info = stack.info;
}, 150_000);

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function sandboxCount(batchId: string): Promise<{ total: number; distinctRecipients: number }> {
  const res = await fetch(`${info.sandboxUrl}/messages/count?batchId=${batchId}`);
  return (await res.json()) as { total: number; distinctRecipients: number };
}

describe("npm start supervises its children (issue 6, scenario 7)", () => {
  it("runs two consumers per region, each with its own health port", async () => {
    expect(info.consumers.map((c) => c.name)).toEqual(["consumer falkenstein#1", "consumer falkenstein#2", "consumer ashburn#1", "consumer ashburn#2"]);
    const pids = new Set<number>();
    for (const c of info.consumers) {
      const res = await fetch(`${c.url}/health`);
      expect(res.status, c.name).toBe(200);
      pids.add(((await res.json()) as { pid: number }).pid);
    }
    expect(pids.size).toBe(4);
  });

  it("kill -9 of a consumer mid-batch: it is restarted, the restart is logged, every recipient is sent exactly once", async () => {
    const pool = new pg.Pool({ connectionString: info.urls.databaseUrl, max: 2 });
    // Resend has an idempotency key, so exactly-once is a hard guarantee (SES may repeat an in-flight call).
    const sendConfigId = await createSendConfig(pool, info.tenantId, "resend");
    await pool.end();
    const api = apiClient(info.apiKey, info.apiUrl);
    const created = await api("POST", "/v1/batches", {
      name: "supervision",
      sendConfigId,
      message: { from: "Demo <hello@demo.batchsender.dev>", subject: "Hi {{ name }}", text: "Hello {{ name }}" },
      recipients: Array.from({ length: RECIPIENTS }, (_, i) => ({ to: `sup-${i}@example.com`, variables: { name: `R${i}` } })),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const batchId = created.body.id as string;
    const region = created.body.region as string;
    expect((await api("POST", `/v1/batches/${batchId}/send`)).status).toBe(202);

    await waitFor("sending under way", async () => (await sandboxCount(batchId)).total >= 150, 60_000, 100);
    const victim = stack!.supervised.find((p) => p.name === `consumer ${region}#1`)!;
    const victimPid = victim.pid!;
    expect(victimPid).toBeGreaterThan(0);
    const sentAtKill = (await sandboxCount(batchId)).total;
    process.kill(victimPid, "SIGKILL");
    const killedAt = Date.now();

    const done = await waitFor(
      "batch completed",
      async () => {
        const b = await api("GET", `/v1/batches/${batchId}`);
        return b.body.status === "completed" ? b.body : undefined;
      },
      150_000,
    );
    console.log(`kill -9 after ${sentAtKill}/${RECIPIENTS} sent; batch completed ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    expect(sentAtKill, "the kill happened mid-batch").toBeLessThan(RECIPIENTS);
    expect(done.counts).toMatchObject({ sent: RECIPIENTS, failed: 0 });
    expect(await sandboxCount(batchId)).toMatchObject({ total: RECIPIENTS, distinctRecipients: RECIPIENTS });

    // Restarted under a new pid and ready again; logged on the stack's stderr and in the consumer's log file.
    const restarted = await waitFor("consumer restarted", async () => (victim.pid && victim.pid !== victimPid ? victim.pid : undefined), 30_000);
    const consumer = info.consumers.find((c) => c.name === victim.name)!;
    await waitFor("restarted consumer ready", async () => (await fetch(`${consumer.url}/health/ready`)).ok, 60_000);
    expect(((await (await fetch(`${consumer.url}/health`)).json()) as { pid: number }).pid).toBe(restarted);
    const logged = `consumer ${region}#1: exited (signal SIGKILL, pid ${victimPid}`;
    expect(stackLog.some((l) => l.includes(logged) && l.includes("restart attempt 1"))).toBe(true);
    expect(fs.readFileSync(consumer.logFile, "utf8")).toContain(logged);
  });
});
