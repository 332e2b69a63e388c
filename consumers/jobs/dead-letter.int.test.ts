// The last allowed delivery of a chunk that still cannot finish: it goes to DLQ and its unfinished
// recipients become `failed` with the reason — never left `queued`. Driven through handleSendChunk with a
// real JetStream message (own nats-server), real Postgres and the sandbox; maxDeliver is 2 so the test does
// not wait through the production backoff.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { streams, subjects, DeadLetterMessage } from "../../core/contract";
import { startSandbox } from "../../dev/sandbox/server";
import { createMetrics } from "../metrics";
import { ensureStreams } from "../nats/setup";
import { createRegistryFromConfig } from "../providers/platform";
import { quietLog, sandboxConfig, startTestNats, type Sandbox } from "../testing/harness";
import { addressFor, batchRow, createBatch, createTenantWithConfig, recipientStatusCounts, testConfig, testPool } from "../../test/support/fixtures";
import { BatchStatusCache } from "./batch-status";
import { ResultRecorder } from "./result-recorder";
import { handleSendChunk, planJob, type JobDeps } from "./catalog";
import { runJob } from "./runner";
import type { SendDeps } from "./send";

const pool = testPool();
let nats: Awaited<ReturnType<typeof startTestNats>>;
let sandbox: Sandbox;

beforeAll(async () => {
  nats = await startTestNats(20320);
  sandbox = await startSandbox({ host: "127.0.0.1", port: 0 });
  const jsm = await jetstreamManager(nats.nc);
  await ensureStreams(jsm);
  await jsm.consumers.add(streams.sends.name, {
    durable_name: "dlq-test",
    filter_subject: subjects.send("falkenstein", "email"),
    ack_policy: AckPolicy.Explicit,
    max_deliver: 2,
  });
  await jsm.consumers.add(streams.batches.name, {
    durable_name: "plan-dlq-test",
    filter_subject: subjects.plan("falkenstein"),
    ack_policy: AckPolicy.Explicit,
    max_deliver: 1,
  });
});

afterAll(async () => {
  await sandbox?.close();
  await nats?.stop();
  await pool.end();
});

describe("dead letters", () => {
  it("a chunk on its last delivery goes to DLQ and its unfinished recipients become failed", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 5, status: "processing" });
    const stuck = addressFor("ses", 2);
    await sandboxConfig(sandbox, { faults: [{ kind: "server_error", to: stuck }] });
    const js = jetstream(nats.nc);
    const subject = subjects.send("falkenstein", "email");
    await js.publish(subject, JSON.stringify({ batchId, tenantId, recipientIds: ids }));

    const config = testConfig(nats.url, sandbox.url);
    const metrics = createMetrics();
    const deps: SendDeps = {
      db: pool,
      recorder: new ResultRecorder(pool),
      js,
      log: quietLog,
      metrics,
      statuses: new BatchStatusCache(pool),
      providers: createRegistryFromConfig(config),
      bucketsFor: () => [],
      takeTokens: async () => undefined,
      stopping: () => false,
      signal: new AbortController().signal,
      maxDeliver: 2,
      inProcessRetries: 0,
    };
    const consumer = await js.consumers.get(streams.sends.name, "dlq-test");

    // Delivery 1: four sent, the stuck one released and nak'ed for later.
    const first = await consumer.next({ expires: 5000 });
    expect(first?.info.deliveryCount).toBe(1);
    expect(await handleSendChunk(deps, first!)).toBe("nak");
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ sent: 4, queued: 1 });

    // Delivery 2 is the last: DLQ, the stuck recipient failed with the reason, batch complete.
    const second = await consumer.next({ expires: 10_000 });
    expect(second?.info.deliveryCount).toBe(2);
    expect(await handleSendChunk(deps, second!)).toBe("dlq");
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ sent: 4, failed: 1 });
    const { rows } = await pool.query<{ address: string; last_error: string }>("select address, last_error from recipients where batch_id = $1 and status = 'failed'", [batchId]);
    expect(rows[0]!.address).toBe(stuck);
    expect(rows[0]!.last_error).toMatch(/gave up after 2 deliveries: ses .*/);
    expect(await batchRow(pool, batchId)).toMatchObject({ status: "completed", sent: 4, failed: 1, queued: 0 });

    const jsm = await jetstreamManager(nats.nc);
    const dead = await jsm.streams.getMessage(streams.dlq.name, { last_by_subj: subjects.dlq(subject) });
    const body = DeadLetterMessage.parse(dead!.json());
    expect(body).toMatchObject({ subject, deliveries: 2, data: { batchId, unfinishedRecipientIds: [ids[2]] } });
    // The work stream no longer holds the chunk.
    expect((await jsm.consumers.info(streams.sends.name, "dlq-test")).num_ack_pending).toBe(0);
    await sandboxConfig(sandbox, { faults: [] });
  });

  it("pause mid-chunk releases the unsent rows; cancel marks them cancelled with counters", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const js = jetstream(nats.nc);
    const consumer = await js.consumers.get(streams.sends.name, "dlq-test");
    const config = testConfig(nats.url, sandbox.url);
    for (const action of ["paused", "cancelled"] as const) {
      const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 20, status: "processing" });
      await js.publish(subjects.send("falkenstein", "email"), JSON.stringify({ batchId, tenantId, recipientIds: ids }));
      let calls = 0;
      const deps: SendDeps = {
        db: pool,
        recorder: new ResultRecorder(pool),
        js,
        log: quietLog,
        metrics: createMetrics(),
        statuses: new BatchStatusCache(pool, 0),
        providers: createRegistryFromConfig(config),
        bucketsFor: () => [],
        // The 6th provider call finds the batch paused/cancelled by the API in the meantime.
        takeTokens: async () => {
          if (++calls === 6) await pool.query(`update batches set status = '${action}' where id = $1`, [batchId]);
        },
        stopping: () => false,
        signal: new AbortController().signal,
        maxDeliver: 2,
      };
      const msg = await consumer.next({ expires: 5000 });
      // Paused: the chunk stays alive (nak) so a resume that lands meanwhile finds its rows covered.
      expect(await handleSendChunk(deps, msg!)).toBe(action === "paused" ? "nak" : "ack");
      expect(sandbox.messages({ batchId })).toHaveLength(5);
      if (action === "paused") {
        expect(await recipientStatusCounts(pool, batchId)).toEqual({ sent: 5, queued: 15 });
        const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from recipients where batch_id = $1 and claim_token is not null", [batchId]);
        expect(rows[0]!.n).toBe(0);
        expect(await batchRow(pool, batchId)).toMatchObject({ sent: 5, queued: 15 });
      } else {
        expect(await recipientStatusCounts(pool, batchId)).toEqual({ sent: 5, cancelled: 15 });
        expect(await batchRow(pool, batchId)).toMatchObject({ status: "cancelled", sent: 5, cancelled: 15, queued: 0 });
      }
    }
  });

  it("a chunk whose handler throws a per-message fault on every delivery ends in the DLQ, recipients failed, batch completed", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 4, status: "processing" });
    const js = jetstream(nats.nc);
    const subject = subjects.send("falkenstein", "email");
    await js.publish(subject, JSON.stringify({ batchId, tenantId, recipientIds: ids }));
    const deps: SendDeps = {
      db: pool,
      recorder: new ResultRecorder(pool),
      js,
      log: quietLog,
      metrics: createMetrics(),
      statuses: new BatchStatusCache(pool),
      providers: createRegistryFromConfig(testConfig(nats.url, sandbox.url)),
      // A configuration the bucket wiring refuses: thrown inside the provider-call loop, every time.
      bucketsFor: () => {
        throw new Error("region falkenstein has no capacity for ses");
      },
      takeTokens: async () => undefined,
      stopping: () => false,
      signal: new AbortController().signal,
      maxDeliver: 2,
    };
    const consumer = await js.consumers.get(streams.sends.name, "dlq-test");
    const first = await consumer.next({ expires: 5000 });
    expect(await handleSendChunk(deps, first!)).toBe("nak");
    // Nothing sent, nothing stranded in `sending`: the fault gave the rows back.
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ queued: 4 });
    const second = await consumer.next({ expires: 10_000 });
    expect(second?.info.deliveryCount).toBe(2);
    expect(await handleSendChunk(deps, second!)).toBe("dlq");
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ failed: 4 });
    const { rows } = await pool.query<{ last_error: string }>("select distinct last_error from recipients where batch_id = $1", [batchId]);
    expect(rows.map((r) => r.last_error)).toEqual(["gave up after 2 deliveries: region falkenstein has no capacity for ses"]);
    expect(await batchRow(pool, batchId)).toMatchObject({ status: "completed", failed: 4, queued: 0 });
    const jsm = await jetstreamManager(nats.nc);
    const dead = DeadLetterMessage.parse((await jsm.streams.getMessage(streams.dlq.name, { last_by_subj: subjects.dlq(subject) }))!.json());
    expect(dead).toMatchObject({ deliveries: 2, data: { batchId, unfinishedRecipientIds: ids } });
    expect(sandbox.messages({ batchId })).toHaveLength(0);
  });

  it("a plan message that fails on its last delivery fails the batch's queued recipients and completes the batch", async () => {
    const { tenantId, sendConfigId } = await createTenantWithConfig(pool, "ses");
    const { batchId } = await createBatch(pool, { tenantId, sendConfigId, provider: "ses", count: 12, status: "queued" });
    const js = jetstream(nats.nc);
    await js.publish(subjects.plan("falkenstein"), JSON.stringify({ batchId, tenantId }));
    // Chunk publishes refused for a reason that is the message's, not the infrastructure's.
    const refusing = { ...js, publish: () => Promise.reject(new Error("maximum payload exceeded")) } as unknown as typeof js;
    const deps = { db: pool, js: refusing, region: "falkenstein", log: quietLog } as unknown as JobDeps;
    const consumer = await js.consumers.get(streams.batches.name, "plan-dlq-test");
    const msg = await consumer.next({ expires: 5000 });
    expect(await runJob(planJob, deps, { js, log: quietLog, stopping: () => false }, msg!, 1)).toBe("dlq");
    expect(await recipientStatusCounts(pool, batchId)).toEqual({ failed: 12 });
    expect(await batchRow(pool, batchId)).toMatchObject({ status: "completed", failed: 12, queued: 0 });
    const { rows } = await pool.query<{ last_error: string }>("select distinct last_error from recipients where batch_id = $1", [batchId]);
    expect(rows[0]!.last_error).toBe("planning gave up after 1 deliveries: maximum payload exceeded");
    const jsm = await jetstreamManager(nats.nc);
    const dead = DeadLetterMessage.parse((await jsm.streams.getMessage(streams.dlq.name, { last_by_subj: subjects.dlq(subjects.plan("falkenstein")) }))!.json());
    expect(dead).toMatchObject({ deliveries: 1, data: { batchId, failedRecipients: 12 } });
  });
});
