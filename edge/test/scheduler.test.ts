import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { call, emailBatch, newTenant, query, testEnv } from "./harness";
import { connectNats, ensurePlanStream, watchPlans } from "./nats";

let nc: NatsConnection;
beforeEach(async () => {
  nc = await connectNats();
  await ensurePlanStream(nc);
});
afterEach(async () => {
  await nc.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("BatchScheduler", () => {
  // No scheduled() call and no runDurableObjectAlarm: the Durable Object's real alarm fires by itself.
  it("starts a batch scheduled 3 s ahead on time, by its own alarm", async () => {
    const t = await newTenant();
    const scheduledAt = new Date(Date.now() + 3_000);
    const created = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true, scheduledAt: scheduledAt.toISOString() }) });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const plans = watchPlans(nc, id);
    const sent = await call("POST", `/v1/batches/${id}/send`, { apiKey: t.apiKey });
    expect(sent.status).toBe(202);
    expect(sent.body.status).toBe("scheduled");

    // The region's scheduler is armed no later than the batch's time.
    const stub = testEnv.BATCH_SCHEDULER.get(testEnv.BATCH_SCHEDULER.idFromName("falkenstein"));
    const armed = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    expect(armed).not.toBeNull();
    expect(armed!).toBeLessThanOrEqual(scheduledAt.getTime());

    let row: { status: string; late_ms: number } | undefined;
    const deadline = scheduledAt.getTime() + 5_000;
    while (Date.now() < deadline) {
      [row] = await query<{ status: string; late_ms: number }>(
        "select status::text, (extract(epoch from queued_at - scheduled_at) * 1000)::float8 as late_ms from batches where id = $1",
        [id],
      );
      if (row!.status !== "scheduled") break;
      await sleep(200);
    }
    expect(["queued", "processing", "completed"]).toContain(row!.status);
    // queued_at − scheduled_at, both from Postgres: never early, well inside ±5 s.
    expect(row!.late_ms).toBeGreaterThanOrEqual(0);
    expect(row!.late_ms).toBeLessThan(5_000);
    console.log(`scheduled batch queued ${Math.round(row!.late_ms)} ms after scheduledAt`);
    const seen = await plans.waitFor(1, 5_000);
    await plans.stop();
    expect(seen[0]?.subject).toBe("batch.falkenstein.plan");
  });

  it("an alarm with nothing due re-arms for the next scheduled batch of its region", async () => {
    const t = await newTenant();
    const later = new Date(Date.now() + 3_600_000);
    const created = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true, scheduledAt: later.toISOString() }) });
    const sent = await call("POST", `/v1/batches/${created.body.id}/send`, { apiKey: t.apiKey });
    expect(sent.body.status).toBe("scheduled");
    const stub = testEnv.BATCH_SCHEDULER.get(testEnv.BATCH_SCHEDULER.idFromName("falkenstein"));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const armed = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    // Re-armed from Postgres: no later than this batch (another test's batch may be due sooner).
    expect(armed).not.toBeNull();
    expect(armed!).toBeLessThanOrEqual(later.getTime());
    const [row] = await query<{ status: string }>("select status::text from batches where id = $1", [created.body.id]);
    expect(row!.status).toBe("scheduled");
  });
});
