import { describe, expect, it } from "vitest";
import { call, emailBatch, newTenant, query } from "./harness";

describe("POST /v1/batches", () => {
  it("creates a draft batch (201) that GET returns in the public shape", async () => {
    const t = await newTenant();
    const created = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: "batch",
      name: "Newsletter",
      channel: "email",
      status: "draft",
      sendConfigId: t.sendConfigId,
      region: "falkenstein",
      dryRun: false,
      scheduledAt: null,
      counts: { total: 2, queued: 0, sent: 0, failed: 0, suppressed: 0, cancelled: 0, delivered: 0, bounced: 0, complained: 0 },
      queuedAt: null,
      duplicatesRemoved: 0,
    });
    const got = await call("GET", `/v1/batches/${created.body.id}`, { apiKey: t.apiKey });
    expect(got.status).toBe(200);
    const { duplicatesRemoved: _d, ...view } = created.body;
    expect(got.body).toEqual({ ...view, eta: null });

    const [row] = await query<{ payload: Record<string, unknown>; tenant_id: string }>("select payload, tenant_id from batches where id = $1", [created.body.id]);
    expect(row!.tenant_id).toBe(t.tenantId);
    expect(row!.payload).toMatchObject({ channel: "email", from: "Test <hello@test.batchsender.dev>", subject: "Hello {{ name }}" });
    const recipients = await query<{ address: string; status: string; variables: unknown }>(
      "select address, status, variables from recipients where batch_id = $1 order by id",
      [created.body.id],
    );
    expect(recipients).toEqual([
      { address: "ada@example.com", status: "pending", variables: { name: "R0" } },
      { address: "grace@example.com", status: "pending", variables: { name: "R1" } },
    ]);
  });

  // Addresses are lowercased as a whole, local part too (core/domain/address.ts), before deduping.
  it("normalises and dedupes addresses and marks suppressed ones", async () => {
    const t = await newTenant();
    await query("insert into suppressions (tenant_id, channel, address, reason, source) values ($1, 'email', 'blocked@example.com', 'hard_bounce', 'test')", [t.tenantId]);
    const res = await call("POST", "/v1/batches", {
      apiKey: t.apiKey,
      body: emailBatch({}, ["Ada@Example.COM", " Ada@example.com ", "blocked@EXAMPLE.com", "bob@example.com"]),
    });
    expect(res.status).toBe(201);
    expect(res.body.duplicatesRemoved).toBe(1);
    expect(res.body.counts).toMatchObject({ total: 3, suppressed: 1 });
    const rows = await query<{ address: string; status: string }>("select address, status from recipients where batch_id = $1 order by id", [res.body.id]);
    expect(rows).toEqual([
      { address: "ada@example.com", status: "pending" },
      { address: "blocked@example.com", status: "suppressed" },
      { address: "bob@example.com", status: "pending" },
    ]);
  });

  it("validation errors are 422 problems naming the field", async () => {
    const t = await newTenant();
    const post = (body: unknown) => call("POST", "/v1/batches", { apiKey: t.apiKey, body });
    const paths = (res: { body: { errors?: { path: string }[] } }) => res.body.errors?.map((e) => e.path);

    const badEmail = await post(emailBatch({}, ["ok@example.com", "not-an-email"]));
    expect(badEmail.status).toBe(422);
    expect(badEmail.headers.get("content-type")).toContain("application/problem+json");
    expect(badEmail.body.code).toBe("validation_failed");
    expect(paths(badEmail)).toEqual(["recipients.1.to"]);

    const none = await post(emailBatch({ recipients: [] }));
    expect(none.status).toBe(422);
    expect(paths(none)).toEqual(["recipients"]);

    const tooMany = await post(emailBatch({}, Array.from({ length: 10_001 }, (_, i) => `r${i}@example.com`)));
    expect(tooMany.status).toBe(422);
    expect(paths(tooMany)).toEqual(["recipients"]);

    const liquid = await post(emailBatch({ message: { subject: "Hi {{ name", html: "<p>{% if x %}</p>", text: "ok" } }));
    expect(liquid.status).toBe(422);
    expect(paths(liquid)).toEqual(["message.subject", "message.html"]);

    const noBody = await post(emailBatch({ message: { subject: "Hi" } }));
    expect(noBody.status).toBe(422);
    expect(paths(noBody)).toEqual(["message.html"]);

    const badRegion = await post(emailBatch({ region: "mars", name: "" }));
    expect(badRegion.status).toBe(422);
    expect(paths(badRegion)?.sort()).toEqual(["name", "region"]);
  });

  it("accepts 10,000 recipients in one batch", async () => {
    const t = await newTenant();
    const res = await call("POST", "/v1/batches", {
      apiKey: t.apiKey,
      body: emailBatch({}, Array.from({ length: 10_000 }, (_, i) => `r${i}@example.com`)),
    });
    expect(res.status).toBe(201);
    expect(res.body.counts.total).toBe(10_000);
  });

  it("malformed JSON → 400, wrong content type → 415, oversized body → 413", async () => {
    const t = await newTenant();
    const malformed = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe("bad_request");

    const text = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: "name=x", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    expect(text.body.code).toBe("unsupported_media_type");

    const huge = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: JSON.stringify({ name: "x".repeat(9 * 1024 * 1024) }) });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe("payload_too_large");
  });

  it("another tenant's batch and a non-uuid id are 404", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const created = await call("POST", "/v1/batches", { apiKey: a.apiKey, body: emailBatch() });
    const foreign = await call("GET", `/v1/batches/${created.body.id}`, { apiKey: b.apiKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe("not_found");
    expect((await call("POST", `/v1/batches/${created.body.id}/send`, { apiKey: b.apiKey })).status).toBe(404);
    expect((await call("GET", "/v1/batches/not-a-uuid", { apiKey: a.apiKey })).status).toBe(404);
    expect((await call("POST", "/v1/batches/123/cancel", { apiKey: a.apiKey })).status).toBe(404);
  });

  it("Idempotency-Key: same body replays the first answer (201), another body is 422", async () => {
    const t = await newTenant();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const first = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch(), headers });
    expect(first.status).toBe(201);
    const again = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch(), headers });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    const other = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ name: "Other" }), headers });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("validation_failed");
    const [{ n }] = (await query<{ n: number }>("select count(*)::int as n from batches where tenant_id = $1", [t.tenantId])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("test keys force dry runs; a missing default send config is 422; a foreign send config is 404", async () => {
    const testKey = await newTenant({ mode: "test" });
    const dry = await call("POST", "/v1/batches", { apiKey: testKey.apiKey, body: emailBatch({ dryRun: false }) });
    expect(dry.status).toBe(201);
    expect(dry.body.dryRun).toBe(true);

    const bare = await newTenant({ withDefaultConfig: false });
    const noConfig = await call("POST", "/v1/batches", { apiKey: bare.apiKey, body: emailBatch() });
    expect(noConfig.status).toBe(422);
    expect(noConfig.body.errors[0].path).toBe("sendConfigId");

    const foreign = await call("POST", "/v1/batches", { apiKey: bare.apiKey, body: emailBatch({ sendConfigId: testKey.sendConfigId }) });
    expect(foreign.status).toBe(404);
  });

  it("lists batches newest first with a cursor", async () => {
    const t = await newTenant();
    const ids: string[] = [];
    for (const name of ["one", "two", "three"]) {
      ids.push((await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ name }) })).body.id);
    }
    const page1 = await call("GET", "/v1/batches?limit=2", { apiKey: t.apiKey });
    expect(page1.body.data.map((b: { id: string }) => b.id)).toEqual([ids[2], ids[1]]);
    expect(page1.body.hasMore).toBe(true);
    const page2 = await call("GET", `/v1/batches?limit=2&starting_after=${ids[1]}`, { apiKey: t.apiKey });
    expect(page2.body.data.map((b: { id: string }) => b.id)).toEqual([ids[0]]);
    expect(page2.body.hasMore).toBe(false);
    expect((await call("GET", "/v1/batches?limit=0", { apiKey: t.apiKey })).status).toBe(422);
  });
});
