/**
 * Lifecycle rules: scheduling bounds, deleting drafts (in bounded steps), and every verb from a state it does
 * not start from is a 409 naming the batch's current state.
 */
import { describe, expect, it } from "vitest";
import { batchStatusEnum } from "../../core/db/schema";
import { canTransition, type BatchAction } from "../../core/domain/batch-states";
import { LIMITS } from "../../core/domain/limits";
// The verb's own module: the services index would build the request schemas before the routes extend zod.
import { DELETE_STEP } from "../services/batches/delete-batch";
import { call, emailBatch, newTenant, query, type TestTenant } from "./harness";

const DAY = 86_400_000;

async function draft(t: TestTenant, body: Record<string, unknown> = {}, recipients?: string[]): Promise<string> {
  const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch(body, recipients) });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe("scheduling", () => {
  it(`scheduledAt must be in the future and at most ${LIMITS.scheduleAheadDays} days ahead (422 naming the field)`, async () => {
    const t = await newTenant();
    for (const at of [new Date(Date.now() - 60_000), new Date(Date.now() + (LIMITS.scheduleAheadDays + 1) * DAY), new Date("0000-01-01T00:00:00Z")]) {
      const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ scheduledAt: at.toISOString() }) });
      expect(res.status, at.toISOString()).toBe(422);
      expect(res.body.errors[0].path).toBe("scheduledAt");
    }
    const at = new Date(Date.now() + (LIMITS.scheduleAheadDays - 1) * DAY);
    const id = await draft(t, { scheduledAt: at.toISOString() });
    const sent = await call("POST", `/v1/batches/${id}/send`, { apiKey: t.apiKey });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: "scheduled", scheduledAt: at.toISOString() });
  });
});

describe("DELETE /v1/batches/{id}", () => {
  it("deletes a draft and all its recipients, in steps of DELETE_STEP rows", async () => {
    const t = await newTenant();
    const many = Array.from({ length: DELETE_STEP }, (_, i) => `d${i}@example.com`);
    const id = await draft(t, {}, many);
    const more = await call("POST", `/v1/batches/${id}/recipients`, { apiKey: t.apiKey, body: { recipients: [{ to: "last@example.com" }] } });
    expect(more.body.batch.counts.total).toBe(DELETE_STEP + 1);

    const res = await call("DELETE", `/v1/batches/${id}`, { apiKey: t.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, object: "batch", deleted: true });
    const [left] = await query<{ batches: number; recipients: number }>(
      "select (select count(*)::int from batches where id = $1) as batches, (select count(*)::int from recipients where batch_id = $1) as recipients",
      [id],
    );
    expect(left).toEqual({ batches: 0, recipients: 0 });
    expect((await call("GET", `/v1/batches/${id}`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("DELETE", `/v1/batches/${id}`, { apiKey: t.apiKey })).status).toBe(404);
  });

  it("a batch that is not a draft is 409 naming its state and keeps its recipients; others' and malformed ids are 404", async () => {
    const t = await newTenant();
    const id = await draft(t);
    expect((await call("POST", `/v1/batches/${id}/send`, { apiKey: t.apiKey })).status).toBe(202);
    const res = await call("DELETE", `/v1/batches/${id}`, { apiKey: t.apiKey });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/^Cannot delete a batch that is (queued|processing|completed)$/);
    const [row] = await query<{ n: number }>("select count(*)::int as n from recipients where batch_id = $1", [id]);
    expect(row!.n).toBe(2);

    const other = await newTenant();
    const draftId = await draft(t);
    expect((await call("DELETE", `/v1/batches/${draftId}`, { apiKey: other.apiKey })).status).toBe(404);
    expect((await call("DELETE", "/v1/batches/not-a-uuid", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", `/v1/batches/${draftId}`, { apiKey: t.apiKey })).status).toBe(200);
    expect((await call("PUT", `/v1/batches/${draftId}`, { apiKey: t.apiKey })).status).toBe(405);
  });
});

describe("every verb from a state it does not start from", () => {
  const verbs: [BatchAction, string, string, unknown?][] = [
    ["send", "POST", "send"],
    ["pause", "POST", "pause"],
    ["resume", "POST", "resume"],
    ["cancel", "POST", "cancel"],
    ["retry", "POST", "retry"],
    ["deleteDraft", "DELETE", ""],
  ];
  const word: Partial<Record<BatchAction, string>> = { deleteDraft: "delete" };

  it("is a 409 problem naming the current state, and changes nothing", async () => {
    const t = await newTenant();
    for (const state of batchStatusEnum.enumValues) {
      const id = await draft(t, { name: state });
      // failed > 0 so only the state can refuse a retry.
      await query("update batches set status = $2::batch_status, failed = 1 where id = $1", [id, state]);
      for (const [action, method, suffix] of verbs) {
        if (canTransition(action, state)) continue;
        const res = await call(method, `/v1/batches/${id}${suffix ? `/${suffix}` : ""}`, { apiKey: t.apiKey });
        expect(res.status, `${action} from ${state}`).toBe(409);
        expect(res.body.code).toBe("conflict");
        expect(res.body.detail, `${action} from ${state}`).toBe(`Cannot ${word[action] ?? action} a batch that is ${state}`);
      }
      if (state !== "draft") {
        const append = await call("POST", `/v1/batches/${id}/recipients`, { apiKey: t.apiKey, body: { recipients: [{ to: "x@example.com" }] } });
        expect(append.status, `append to ${state}`).toBe(409);
        expect(append.body.detail).toContain(state);
      }
      const [row] = await query<{ status: string }>("select status::text as status from batches where id = $1", [id]);
      expect(row!.status).toBe(state);
    }
  });
});
