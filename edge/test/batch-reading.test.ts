/**
 * Reading batches: list filters (status, channel, created range) with the cursor, one batch's progress and
 * ETA, and recipient search by address (exact and prefix).
 */
import { describe, expect, it } from "vitest";
import { call, emailBatch, newTenant, query, type TestTenant } from "./harness";

async function create(t: TestTenant, body: Record<string, unknown> = {}, recipients?: string[]): Promise<string> {
  const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch(body, recipients) });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((b) => b.id);

describe("GET /v1/batches filters", () => {
  it("filters by status, channel and created range, and pages within the filter", async () => {
    const t = await newTenant();
    const [a, b, c] = [await create(t, { name: "a" }), await create(t, { name: "b" }), await create(t, { name: "c" })];
    await query(`update batches set created_at = '2026-01-01T00:00:00Z' where id = $1`, [a]);
    await query(`update batches set created_at = '2026-02-01T00:00:00Z', status = 'cancelled' where id = $1`, [b]);
    await query(`update batches set created_at = '2026-03-01T00:00:00Z' where id = $1`, [c]);
    const list = (qs: string) => call("GET", `/v1/batches${qs}`, { apiKey: t.apiKey });

    expect(ids(await list("?status=draft"))).toEqual([c, a]);
    expect(ids(await list("?status=cancelled"))).toEqual([b]);
    expect(ids(await list("?channel=sms"))).toEqual([]);
    expect(ids(await list("?channel=email"))).toEqual([c, b, a]);
    expect(ids(await list("?created[gte]=2026-02-01T00:00:00Z"))).toEqual([c, b]);
    expect(ids(await list("?created[gt]=2026-02-01T00:00:00Z"))).toEqual([c]);
    expect(ids(await list("?created[lt]=2026-02-01T00:00:00Z"))).toEqual([a]);
    expect(ids(await list("?created[lte]=2026-02-01T00:00:00%2B00:00"))).toEqual([b, a]);
    expect(ids(await list("?created[gte]=2026-01-15T00:00:00Z&created[lt]=2026-04-01T00:00:00Z&status=draft"))).toEqual([c]);

    const page1 = await list("?status=draft&limit=1");
    expect(page1.body).toMatchObject({ hasMore: true, nextCursor: c });
    const page2 = await list(`?status=draft&limit=1&starting_after=${page1.body.nextCursor}`);
    expect(page2.body).toMatchObject({ hasMore: false, nextCursor: null });
    expect(ids(page2)).toEqual([a]);
  });

  it("422 naming the parameter for a bad filter; an unknown cursor is 404", async () => {
    const t = await newTenant();
    for (const [qs, path] of [
      ["?status=lost", "status"],
      ["?channel=fax", "channel"],
      ["?created[gte]=yesterday", "created[gte]"],
      ["?created[lt]=2026-01-01", "created[lt]"],
    ] as const) {
      const res = await call("GET", `/v1/batches${qs}`, { apiKey: t.apiKey });
      expect(res.status, qs).toBe(422);
      expect(res.body.errors[0].path, qs).toBe(path);
    }
    const cursor = await call("GET", `/v1/batches?starting_after=${crypto.randomUUID()}`, { apiKey: t.apiKey });
    expect(cursor.status).toBe(404);
  });
});

describe("GET /v1/batches/{id}: progress and ETA", () => {
  it("a sending batch has progress and an ETA from its buckets' rate and what is left", async () => {
    const t = await newTenant();
    const id = await create(t);
    // Managed SES in Falkenstein: 14/s split half-half between the regions = 7 recipients/s.
    await query(
      `update batches set status = 'processing', total = 1000, queued = 600, sent = 350, failed = 30, suppressed = 15, cancelled = 5
        where id = $1`,
      [id],
    );
    const before = Date.now();
    const res = await call("GET", `/v1/batches/${id}`, { apiKey: t.apiKey });
    expect(res.status).toBe(200);
    expect(res.body.progress).toBe(0.4);
    expect(res.body.eta).toMatchObject({ remaining: 600, ratePerSecond: 7, seconds: Math.ceil(600 / 7) });
    const at = Date.parse(res.body.eta.at);
    expect(at).toBeGreaterThanOrEqual(before + 86_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 86_000);

    // A BYOK config's own rate: 40/s split between regions = 20/s.
    await query(`update send_configs set mode = 'byok', rate_limit_per_second = 40 where id = $1`, [t.sendConfigId]);
    const byok = await call("GET", `/v1/batches/${id}`, { apiKey: t.apiKey });
    expect(byok.body.eta).toMatchObject({ remaining: 600, ratePerSecond: 20, seconds: 30 });
  });

  it("no ETA unless sending: draft, paused, completed and dry runs answer null", async () => {
    const t = await newTenant();
    const id = await create(t);
    const get = async () => (await call("GET", `/v1/batches/${id}`, { apiKey: t.apiKey })).body;
    expect(await get()).toMatchObject({ status: "draft", progress: 0, eta: null });
    await query(`update batches set status = 'paused', queued = 2 where id = $1`, [id]);
    expect((await get()).eta).toBeNull();
    await query(`update batches set status = 'completed', queued = 0, sent = 2 where id = $1`, [id]);
    expect(await get()).toMatchObject({ progress: 1, eta: null });
    await query(`update batches set status = 'queued', queued = 2, sent = 0, dry_run = true where id = $1`, [id]);
    expect((await get()).eta).toBeNull();
  });
});

describe("GET /v1/batches/{id}/recipients search", () => {
  it("finds an address exactly (normalised like the stored one) and by prefix", async () => {
    const t = await newTenant();
    const id = await create(t, {}, ["ada@example.com", "adam@example.com", "bob@example.com", "ada@example.org"]);
    const search = (qs: string) => call("GET", `/v1/batches/${id}/recipients${qs}`, { apiKey: t.apiKey });
    const tos = (res: { body: { data: { to: string }[] } }) => res.body.data.map((r) => r.to);

    expect(tos(await search("?to=ada@example.com"))).toEqual(["ada@example.com"]);
    expect(tos(await search(`?to=${encodeURIComponent(" ADA@Example.COM ")}`))).toEqual(["ada@example.com"]);
    expect(tos(await search("?to=nobody@example.com"))).toEqual([]);
    expect(tos(await search("?to_prefix=ADA"))).toEqual(["ada@example.com", "adam@example.com", "ada@example.org"]);
    expect(tos(await search("?to_prefix=ada@example."))).toEqual(["ada@example.com", "ada@example.org"]);
    // % and _ are not wildcards
    expect(tos(await search("?to_prefix=a%25"))).toEqual([]);
    expect(tos(await search("?to_prefix=_"))).toEqual([]);

    const page = await search("?to_prefix=ada&limit=2");
    expect(page.body).toMatchObject({ hasMore: true });
    expect(tos(await search(`?to_prefix=ada&limit=2&starting_after=${page.body.nextCursor}`))).toEqual(["ada@example.org"]);

    await query(`update recipients set status = 'sent' where batch_id = $1 and address = 'adam@example.com'`, [id]);
    expect(tos(await search("?to_prefix=ada&status=sent"))).toEqual(["adam@example.com"]);
  });

  it("an address that cannot exist on the batch's channel is 422 naming `to`; empty search is 422", async () => {
    const t = await newTenant();
    const id = await create(t);
    const bad = await call("GET", `/v1/batches/${id}/recipients?to=not-an-address`, { apiKey: t.apiKey });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe("to");
    expect((await call("GET", `/v1/batches/${id}/recipients?to=`, { apiKey: t.apiKey })).status).toBe(422);
    expect((await call("GET", `/v1/batches/${id}/recipients?to_prefix=`, { apiKey: t.apiKey })).status).toBe(422);
  });
});
