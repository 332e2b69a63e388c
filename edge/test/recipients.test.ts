import { describe, expect, it } from "vitest";
import { call, emailBatch, newTenant, query, type TestTenant } from "./harness";

const addresses = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);
const asRecipients = (list: string[]) => list.map((to) => ({ to }));

async function draft(t: TestTenant, recipients = ["ada@example.com", "grace@example.com"]): Promise<string> {
  const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true }, recipients) });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const append = (t: TestTenant, id: string, body: unknown, headers?: Record<string, string>) =>
  call("POST", `/v1/batches/${id}/recipients`, { apiKey: t.apiKey, body, headers });

describe("POST /v1/batches/{id}/recipients", () => {
  it("appends to a draft: normalised, deduped within the request and against the batch, suppressions counted", async () => {
    const t = await newTenant();
    await query("insert into suppressions (tenant_id, channel, address, reason, source) values ($1, 'email', 'blocked@example.com', 'hard_bounce', 'test')", [t.tenantId]);
    const id = await draft(t);
    const res = await append(t, id, {
      recipients: [
        { to: "ada@EXAMPLE.com" }, // already in the batch
        { to: "bob@example.com", variables: { name: "Bob" } },
        { to: " bob@Example.com " }, // duplicate within the request
        { to: "blocked@EXAMPLE.com" },
        { to: "cy@example.com" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 3, duplicatesRemoved: 2, suppressed: 1 });
    expect(res.body.batch).toMatchObject({ id, object: "batch", status: "draft", counts: { total: 5, suppressed: 1 } });
    const rows = await query<{ address: string; status: string; variables: unknown }>(
      "select address, status, variables from recipients where batch_id = $1 order by id",
      [id],
    );
    expect(rows.map((r) => [r.address, r.status])).toEqual([
      ["ada@example.com", "pending"],
      ["grace@example.com", "pending"],
      ["bob@example.com", "pending"],
      ["blocked@example.com", "suppressed"],
      ["cy@example.com", "pending"],
    ]);
    expect(rows[2]!.variables).toEqual({ name: "Bob" });
  });

  it("honours Idempotency-Key: a repeat replays the first result, another body with the key is 422", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const body = { recipients: asRecipients(["dan@example.com", "eve@example.com"]) };
    const first = await append(t, id, body, { "idempotency-key": "append-1" });
    expect(first.body).toMatchObject({ added: 2, duplicatesRemoved: 0 });
    const again = await append(t, id, body, { "idempotency-key": "append-1" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ added: 2, duplicatesRemoved: 0, batch: { counts: { total: 4 } } });
    const other = await append(t, id, { recipients: asRecipients(["fay@example.com"]) }, { "idempotency-key": "append-1" });
    expect(other.status).toBe(422);
    // Without a key a repeat is still harmless: every address is a duplicate now.
    const plain = await append(t, id, body);
    expect(plain.body).toMatchObject({ added: 0, duplicatesRemoved: 2, batch: { counts: { total: 4 } } });
  });

  it("only a draft accepts recipients (409 naming the status); another tenant's batch is 404; bad input is 422", async () => {
    const t = await newTenant();
    const id = await draft(t);
    expect((await call("POST", `/v1/batches/${id}/cancel`, { apiKey: t.apiKey })).status).toBe(200);
    const refused = await append(t, id, { recipients: [{ to: "late@example.com" }] });
    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body.detail).toBe("Cannot append recipients to a batch that is cancelled");

    const sentId = await draft(t);
    await query("update batches set status = 'queued' where id = $1", [sentId]);
    expect((await append(t, sentId, { recipients: [{ to: "late@example.com" }] })).body.detail).toBe(
      "Cannot append recipients to a batch that is queued",
    );

    const other = await newTenant();
    const theirs = await draft(other);
    const notYours = await append(t, theirs, { recipients: [{ to: "x@example.com" }] });
    expect(notYours.status).toBe(404);
    expect((await append(t, "not-a-uuid", { recipients: [{ to: "x@example.com" }] })).status).toBe(404);

    const own = await draft(t);
    const tooMany = await append(t, own, { recipients: asRecipients(addresses(10_001, "r")) });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors.map((e: { path: string }) => e.path)).toEqual(["recipients"]);
    const badEmail = await append(t, own, { recipients: [{ to: "ok@example.com" }, { to: "nope" }] });
    expect(badEmail.status).toBe(422);
    expect(badEmail.body.errors.map((e: { path: string }) => e.path)).toEqual(["recipients.1.to"]);
    expect((await append(t, own, { recipients: [] })).status).toBe(422);
  });

  it("builds a 30,000-recipient batch from one create and two appends of 10,000", async () => {
    const t = await newTenant();
    const id = await draft(t, addresses(10_000, "a"));
    for (const prefix of ["b", "c"]) {
      const res = await append(t, id, { recipients: asRecipients(addresses(10_000, prefix)) });
      expect(res.status).toBe(200);
      expect(res.body.added).toBe(10_000);
    }
    const got = await call("GET", `/v1/batches/${id}`, { apiKey: t.apiKey });
    expect(got.body.counts.total).toBe(30_000);
    const [row] = await query<{ n: number }>("select count(*)::int as n from recipients where batch_id = $1", [id]);
    expect(row!.n).toBe(30_000);
  });
});

describe("GET /v1/batches/{id}/recipients", () => {
  it("pages by id with a cursor and filters by status", async () => {
    const t = await newTenant();
    const id = await draft(t, addresses(5, "p"));
    await query(
      `update recipients set status = 'failed', attempts = 3, last_error = 'mailbox full'
        where id = (select min(id) from recipients where batch_id = $1)`,
      [id],
    );
    await query(
      `update recipients set status = 'sent', attempts = 1, provider_message_id = 'msg-1', sent_at = now()
        where id = (select max(id) from recipients where batch_id = $1)`,
      [id],
    );
    const list = (qs: string) => call("GET", `/v1/batches/${id}/recipients${qs}`, { apiKey: t.apiKey });

    const first = await list("?limit=2");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ object: "list", hasMore: true });
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toBe(first.body.data[1].id);
    expect(first.body.data[0]).toEqual({
      id: expect.any(String),
      object: "recipient",
      to: "p0@example.com",
      status: "failed",
      attempts: 3,
      providerMessageId: null,
      error: "mailbox full",
      sentAt: null,
      updatedAt: expect.any(String),
    });
    const second = await list(`?limit=2&starting_after=${first.body.nextCursor}`);
    const third = await list(`?limit=2&starting_after=${second.body.nextCursor}`);
    expect(third.body).toMatchObject({ hasMore: false, nextCursor: null });
    const all = [...first.body.data, ...second.body.data, ...third.body.data].map((r: { to: string }) => r.to);
    expect(all).toEqual(addresses(5, "p"));
    expect(JSON.stringify(third.body)).not.toContain("variables");

    const sent = await list("?status=sent");
    expect(sent.body.data).toHaveLength(1);
    expect(sent.body.data[0]).toMatchObject({ to: "p4@example.com", status: "sent", providerMessageId: "msg-1", sentAt: expect.any(String) });
    expect((await list("?status=pending")).body.data.map((r: { to: string }) => r.to)).toEqual(["p1@example.com", "p2@example.com", "p3@example.com"]);
  });

  it("422 for an unknown status or a bad cursor, 404 for another tenant's batch", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const badStatus = await call("GET", `/v1/batches/${id}/recipients?status=lost`, { apiKey: t.apiKey });
    expect(badStatus.status).toBe(422);
    expect(badStatus.body.errors[0].path).toBe("status");
    expect((await call("GET", `/v1/batches/${id}/recipients?starting_after=abc`, { apiKey: t.apiKey })).status).toBe(422);
    expect((await call("GET", `/v1/batches/${id}/recipients?limit=0`, { apiKey: t.apiKey })).status).toBe(422);

    const other = await newTenant();
    const notYours = await call("GET", `/v1/batches/${id}/recipients`, { apiKey: other.apiKey });
    expect(notYours.status).toBe(404);
    expect(notYours.body.code).toBe("not_found");
    expect((await call("DELETE", `/v1/batches/${id}/recipients`, { apiKey: t.apiKey })).status).toBe(405);
  });
});
