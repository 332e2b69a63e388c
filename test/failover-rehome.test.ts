/// <reference types="@cloudflare/workers-types/2023-07-01" />
// The edge modules this test runs in Node mention Workers types (Durable Object namespaces, cloudflare:workers).
/**
 * Issue 10's second failover proof: a batch whose region goes down mid-send completes in the other region,
 * every recipient sent exactly once (Telnyx, which honours idempotency keys).
 *
 * Real consumer processes for both regions (`falkenstein` reads only `*.falkenstein.*`, `ashburn` only
 * `*.ashburn.*`) on a private NATS, the shared test Postgres, a private sandbox. "Region down" = SIGKILL the
 * falkenstein consumer mid-send; its `/health/ready` stops answering. The edge's failover job itself
 * (edge/cron/failover.ts: the same policy, re-homing and routed publisher the cron runs) probes both
 * consumers' readiness endpoints each "minute" (compressed to 0.5 s), fails over after N = 3 failed probes,
 * and once falkenstein has been down longer than a recipient lease re-homes the batch: `batches.region`
 * moves and a plan goes through the outbox to `batch.ashburn.plan`. Recipients the dead consumer had claimed
 * wait out their lease (no one may take them earlier), then ashburn sends them.
 */
import { drizzle } from "drizzle-orm/node-postgres";
import { jetstream } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEASE_SECONDS } from "../consumers/jobs/recipient-store";
import { routedPublisher } from "../edge/adapters/routed-publisher";
import { runFailover, type FailoverSettings } from "../edge/cron/failover";
import { memoryFailoverStore } from "../edge/cron/failover-store";
import { rehomeBatches } from "../edge/cron/rehome";
import type { Db } from "../edge/adapters/db";
import type { Publisher } from "../edge/adapters/publisher";
import { Cluster } from "./support/cluster";
import { batchRow, createQueuedBatch, createSendConfig, createTenant, UNTHROTTLED_RATES } from "./support/fixtures";
import { waitFor } from "./support/stack";

const cluster = new Cluster({
  SENDER_CONCURRENCY: "4",
  ...UNTHROTTLED_RATES,
  LOG_LEVEL: "warn",
});

beforeAll(async () => {
  await cluster.start();
}, 60_000);
afterAll(() => cluster.stop(), 60_000);

const COUNT = 600;

describe("region down mid-send", () => {
  it("re-homes the batch to the healthy region after a lease; every recipient sent exactly once", { timeout: 300_000 }, async () => {
    // ~20 sends/s per in-flight call: slow enough to kill the region in the middle of the batch.
    const cfg = await fetch(`${cluster.sandbox.url}/_sandbox/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ latencyMs: 60 }),
    });
    expect(cfg.ok).toBe(true);
    const fsn = await cluster.startConsumer("falkenstein");
    const iad = await cluster.startConsumer("ashburn");

    const tenantId = await createTenant(cluster.pool, "failover-rehome");
    const sendConfigId = await createSendConfig(cluster.pool, tenantId, "telnyx");
    const batchId = await createQueuedBatch(cluster.pool, { tenantId, sendConfigId, provider: "telnyx", count: COUNT, region: "falkenstein" });
    await cluster.plan(batchId, tenantId, "falkenstein");

    // The edge's failover job, wired to this cluster: its NATS as the publisher, the consumers' readiness as
    // the regions' health endpoints, the shared Postgres through drizzle.
    const settings: FailoverSettings = {
      policy: { primary: "falkenstein", failAfter: 3, recoverAfter: 8 },
      healthUrls: { falkenstein: `http://127.0.0.1:${fsn.port}/health/ready`, ashburn: `http://127.0.0.1:${iad.port}/health/ready` },
      probesPerRun: 1,
      spacingMs: 0,
      timeoutMs: 1_000,
      // "Longer than a lease": the dead consumer's claims have run out by then.
      rehomeAfterMs: (LEASE_SECONDS + 5) * 1000,
      stateName: "rehome-test",
      mapCacheMs: 0,
      alertWebhook: undefined,
      dns: undefined,
    };
    const store = memoryFailoverStore("falkenstein");
    const js = jetstream(cluster.nc);
    const published: string[] = [];
    const nats: Publisher = {
      async publish(_region, subject, data, headers) {
        const h = natsHeaders();
        for (const [k, v] of Object.entries(headers)) h.set(k, v);
        const ack = await js.publish(subject, data, { headers: h });
        published.push(`${subject} ${(JSON.parse(data) as { batchId: string }).batchId}`);
        return { stream: ack.stream, seq: ack.seq };
      },
    };
    const publisher = routedPublisher(nats, () => store.routes(settings.policy));
    const db = drizzle(cluster.pool) as unknown as Db;
    const alerts: string[] = [];
    const deps = {
      settings,
      store,
      now: () => Date.now(),
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      alert: async (text: string) => {
        alerts.push(text);
      },
      rehome: (from: "falkenstein" | "ashburn", to: "falkenstein" | "ashburn") => rehomeBatches(db, publisher, from, to),
    };
    const sentCount = async () =>
      Number((await cluster.pool.query<{ n: number }>("select count(*)::int as n from recipients where batch_id = $1 and status = 'sent'", [batchId])).rows[0]!.n);

    // Healthy: nothing moves.
    const calm = await runFailover(deps);
    expect(calm.events).toEqual([]);

    // Mid-send: some sent, most not.
    await waitFor("first sends in falkenstein", async () => (await sentCount()) >= 60, 60_000, 50);
    await cluster.kill(fsn, "SIGKILL");
    const killedAt = Date.now();
    const sentAtKill = await sentCount();
    expect(sentAtKill).toBeLessThan(COUNT);
    const { rows: held } = await cluster.pool.query<{ n: number }>(
      "select count(*)::int as n from recipients where batch_id = $1 and status = 'sending' and lease_until > now()",
      [batchId],
    );

    // The cron, compressed: one probe sample per half second until the batch has been re-homed.
    let rehomedAt = 0;
    await waitFor(
      "failover and re-homing",
      async () => {
        const report = await runFailover(deps);
        if (report.rehomed.some((r) => r.moved > 0)) rehomedAt = Date.now();
        return rehomedAt > 0;
      },
      (LEASE_SECONDS + 60) * 1000,
      500,
    );
    expect(rehomedAt - killedAt).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000);
    expect(alerts.map((a) => a.split(" ")[0])).toEqual(["[failover]", "[rehomed]"]);
    expect(await store.routes(settings.policy)).toEqual({ falkenstein: "ashburn", ashburn: "ashburn" });
    // The shared test database may hold other tests' stale falkenstein batches: re-homing moves those too
    // (it is global by design), so only this batch's plans are asserted.
    expect(published.filter((p) => p.endsWith(batchId))).toEqual([`batch.ashburn.plan ${batchId}`]);
    const { rows: outbox } = await cluster.pool.query<{ subject: string; published: boolean }>(
      "select subject, published_at is not null as published from outbox where payload->>'batchId' = $1",
      [batchId],
    );
    expect(outbox).toEqual([{ subject: "batch.ashburn.plan", published: true }]);

    const done = await waitFor(
      `batch ${batchId} completed in ashburn`,
      async () => {
        const b = await batchRow(cluster.pool, batchId);
        return b.status === "completed" ? b : undefined;
      },
      120_000,
      250,
    );
    expect(done).toMatchObject({ total: COUNT, sent: COUNT, failed: 0 });
    const { rows: region } = await cluster.pool.query<{ region: string }>("select region from batches where id = $1", [batchId]);
    expect(region[0]!.region).toBe("ashburn");

    // Exactly once at the provider: one accepted message per recipient, none before the kill repeated after.
    const messages = cluster.sandbox.messages({ batchId });
    const perRecipient = new Map<string, number>();
    for (const m of messages) perRecipient.set(m.recipientId!, (perRecipient.get(m.recipientId!) ?? 0) + 1);
    expect(perRecipient.size).toBe(COUNT);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(messages.length).toBe(COUNT);
    // The rest was sent by ashburn, after the re-homing.
    const afterRehome = messages.filter((m) => m.receivedAtMs >= rehomedAt).length;
    expect(afterRehome).toBeGreaterThanOrEqual(COUNT - sentAtKill - held[0]!.n);
    console.log(
      `rehome: ${sentAtKill}/${COUNT} sent before the kill, ${held[0]!.n} under a live lease at the kill, re-homed ${Math.round((rehomedAt - killedAt) / 1000)} s after it, ${afterRehome} sent in ashburn`,
    );
    await cluster.kill(iad, "SIGTERM");
  });
});
