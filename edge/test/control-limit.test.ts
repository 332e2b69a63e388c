// Issue 6, scenarios 4 and 5 at the edge: control calls are limited per batch (429 + Retry-After), resume
// and retry start a new plan generation carried by the plan message, and cancel answers in bounded work.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { CONTROL_INLINE_ROWS, CONTROL_LIMIT } from "../../core/domain/batch-states";
import { call, emailBatch, newTenant, query, type TestTenant } from "./harness";
import { connectNats, ensurePlanStream, watchPlans } from "./nats";

let nc: NatsConnection;
beforeEach(async () => {
  nc = await connectNats();
  await ensurePlanStream(nc);
});
afterEach(async () => {
  await nc.close();
});

async function queuedBatch(t: TestTenant, recipients?: string[]): Promise<string> {
  const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true }, recipients) });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  // Queued as a send would leave it, without publishing (no planner races the test).
  await query("update recipients set status = 'queued' where batch_id = $1", [id]);
  await query("update batches set status = 'queued', queued = total, queued_at = now() where id = $1", [id]);
  return id;
}

describe("control calls per batch", () => {
  it(`at most ${CONTROL_LIMIT.calls} pause/resume calls per batch per window, then 429 with Retry-After`, async () => {
    const t = await newTenant();
    const id = await queuedBatch(t);
    const plans = watchPlans(nc, id);
    // The full test stack's consumers may finish the (dry-run) batch between calls: put it back to paused by
    // hand then (that write does not touch the control window), so every call below is one the status allows.
    const nextVerb = async () => {
      const [b] = await query<{ status: string }>("select status::text as status from batches where id = $1", [id]);
      if (b!.status === "completed") await query("update batches set status = 'paused' where id = $1", [id]);
      return b!.status === "completed" || b!.status === "paused" ? "resume" : "pause";
    };
    let resumes = 0;
    for (let accepted = 0; accepted < CONTROL_LIMIT.calls; ) {
      const verb = await nextVerb();
      const res = await call("POST", `/v1/batches/${id}/${verb}`, { apiKey: t.apiKey });
      // Lost the race with the consumers completing it: a 409 that does not count; go again.
      if (res.status === 409 && res.body.detail === "Cannot pause a batch that is completed") continue;
      expect(res.status, `${verb} #${accepted}: ${JSON.stringify(res.body)}`).toBe(verb === "pause" ? 200 : 202);
      accepted++;
      if (verb === "resume") resumes++;
    }
    // Over the limit: 429 whatever the status race does (the consumers cannot un-pause a batch).
    await query("update batches set status = 'paused' where id = $1", [id]);
    const refused = await call("POST", `/v1/batches/${id}/resume`, { apiKey: t.apiKey });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(CONTROL_LIMIT.windowSeconds);
    // Each resume published a plan of the next generation.
    const seen = await plans.waitFor(resumes);
    await plans.stop();
    expect(resumes).toBeGreaterThanOrEqual(CONTROL_LIMIT.calls / 2);
    expect(seen.map((p) => (p.data as { generation?: number }).generation)).toEqual(Array.from({ length: resumes }, (_, i) => i + 1));
    // A call the status refuses is still a 409, and does not count.
    const other = await queuedBatch(t);
    expect((await call("POST", `/v1/batches/${other}/resume`, { apiKey: t.apiKey })).status).toBe(409);

    // Once the window has passed, calls are accepted again.
    await query("update batches set control_window_at = now() - interval '61 seconds' where id = $1", [id]);
    expect((await call("POST", `/v1/batches/${id}/resume`, { apiKey: t.apiKey })).status).toBe(202);
  });

  it("cancel flips the status at once and cancels the unsent rows (inline up to a bound, the rest by the consumers)", async () => {
    const t = await newTenant();
    const count = CONTROL_INLINE_ROWS + 150;
    const id = await queuedBatch(t, Array.from({ length: count }, (_, i) => `c${i}@example.com`));
    const res = await call("POST", `/v1/batches/${id}/cancel`, { apiKey: t.apiKey });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("cancelled");
    // The full test stack's reconciler may already have settled more than the inline step by now.
    const counts = res.body.counts as { cancelled: number; queued: number };
    expect(counts.cancelled).toBeGreaterThanOrEqual(CONTROL_INLINE_ROWS);
    expect(counts.cancelled + counts.queued).toBe(count);
  });

  it("retry starts a new plan generation carried by its plan message", async () => {
    const t = await newTenant();
    const id = await queuedBatch(t);
    await query("update recipients set status = 'failed' where batch_id = $1", [id]);
    await query("update batches set status = 'completed', queued = 0, failed = total, completed_at = now() where id = $1", [id]);
    const plans = watchPlans(nc, id);
    const res = await call("POST", `/v1/batches/${id}/retry`, { apiKey: t.apiKey });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await plans.waitFor(1))[0]!.data).toMatchObject({ batchId: id, generation: 1 });
    await plans.stop();
  });
});
