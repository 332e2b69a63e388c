// Issue 7, Batches item 2: POST /v1/batches/{id}/recipients with a streamed NDJSON or CSV body.
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../core/domain/limits";
import { assertDeclaredLength, streamRows } from "../http/row-stream";
import { addApiKey, addSendConfig, call, emailBatch, newTenant, query, type TestTenant } from "./harness";

async function draft(t: TestTenant, body: Record<string, unknown> = emailBatch({ dryRun: true }, ["ada@example.com"])): Promise<string> {
  const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const upload = (key: string, id: string, type: string, body: string, opts: { query?: string; headers?: Record<string, string> } = {}) =>
  call("POST", `/v1/batches/${id}/recipients${opts.query ?? ""}`, { apiKey: key, body, headers: { "content-type": type, ...(opts.headers ?? {}) } });

const stored = (id: string) =>
  query<{ address: string; variables: Record<string, unknown>; status: string }>(
    "select address, variables, status::text as status from recipients where batch_id = $1 order by id",
    [id],
  );

describe("streamed recipient uploads", () => {
  it("NDJSON: rows are normalised, stored with their variables, suppressions counted", async () => {
    const t = await newTenant();
    await query("insert into suppressions (tenant_id, channel, address, reason, source) values ($1, 'email', 'blocked@example.com', 'hard_bounce', 'test')", [t.tenantId]);
    const id = await draft(t);
    const body = ['{"to":"Bob@Example.com","variables":{"name":"Bob","n":1}}', "", '{"to":"blocked@example.com"}', '{"to":"cy@example.com"}'].join("\n");
    const res = await upload(t.apiKey, id, "application/x-ndjson", body + "\n");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 3, duplicatesRemoved: 0, suppressed: 1, rejected: 0, errors: [], batch: { counts: { total: 4, suppressed: 1 } } });
    expect((await stored(id)).map((r) => [r.address, r.status, r.variables])).toEqual([
      ["ada@example.com", "pending", { name: "R0" }],
      ["bob@example.com", "pending", { name: "Bob", n: 1 }],
      ["blocked@example.com", "suppressed", {}],
      ["cy@example.com", "pending", {}],
    ]);
  });

  it("CSV: the header names `to` and the variable columns; quoted fields, CRLF, a BOM and no final newline are fine", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const csv = '\uFEFFname,to,plan\r\n"Doe, Jane",jane@example.com,pro\r\n"Line\r\nbreak",joe@example.com,"say ""hi"""';
    const res = await upload(t.apiKey, id, "text/csv; charset=utf-8", csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 2, duplicatesRemoved: 0, rejected: 0 });
    expect((await stored(id)).slice(1).map((r) => [r.address, r.variables])).toEqual([
      ["jane@example.com", { name: "Doe, Jane", plan: "pro" }],
      ["joe@example.com", { name: "Line\r\nbreak", plan: 'say "hi"' }],
    ]);
  });

  it("bad rows are reported with their line numbers and counted; the good rows are stored", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const csv = ["to,name", "ok1@example.com,A", "not-an-address,B", "ok2@example.com", "ok3@example.com,C", "x@example.com,\u0000", "ok4@example.com,D,extra"].join("\n");
    const res = await upload(t.apiKey, id, "text/csv", csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 2, rejected: 4 });
    expect(res.body.errors.map((e: { line: number; path?: string }) => [e.line, e.path])).toEqual([
      [3, "to"],
      [4, undefined],
      [6, undefined],
      [7, undefined],
    ]);
    expect(res.body.errors[1].message).toMatch(/1 fields; the header has 2/);
    expect(res.body.errors[2].message).toMatch(/NUL/);

    const nd = ['{"to":"ok5@example.com"}', "{not json", "[1]", '{"to":"ok6@example.com","variables":"x"}', '{"to":"ok7@example.com","variables":{"k":"\\ud800"}}', '{"to":"ok8@example.com"}'].join("\n");
    const res2 = await upload(t.apiKey, id, "application/x-ndjson", nd);
    expect(res2.status).toBe(200);
    expect(res2.body).toMatchObject({ added: 2, rejected: 4 });
    expect(res2.body.errors.map((e: { line: number; path?: string }) => [e.line, e.path])).toEqual([
      [2, undefined],
      [3, undefined],
      [4, "variables"],
      [5, undefined],
    ]);
    expect((await stored(id)).map((r) => r.address)).toEqual(["ada@example.com", "ok1@example.com", "ok3@example.com", "ok5@example.com", "ok8@example.com"]);
  });

  it("reports the first 100 bad rows and counts them all", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const lines = ["to"];
    for (let i = 0; i < 250; i++) lines.push(i % 2 ? `good${i}@example.com` : `bad ${i}`);
    const res = await upload(t.apiKey, id, "text/csv", lines.join("\n"));
    expect(res.body).toMatchObject({ added: 125, rejected: 125 });
    expect(res.body.errors).toHaveLength(100);
    expect(res.body.errors[99].line).toBe(2 + 2 * 99);
  });

  it("atomic=true: any bad row is a 422 listing them by line, and nothing is stored", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const csv = "to\nfine@example.com\nbroken\nalso-fine@example.com\n";
    const res = await upload(t.apiKey, id, "text/csv", csv, { query: "?atomic=true" });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(res.body.errors).toEqual([{ path: "line.3.to", message: expect.any(String) }]);
    expect(await stored(id)).toHaveLength(1);
    const ok = await upload(t.apiKey, id, "text/csv", "to\nfine@example.com\n", { query: "?atomic=true" });
    expect(ok.body).toMatchObject({ added: 1, rejected: 0 });
    expect((await upload(t.apiKey, id, "text/csv", "to\nx@example.com", { query: "?atomic=yes" })).status).toBe(422);
  });

  it("drops and counts duplicates within the upload and against the batch, across insert statements", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const lines = ["to"];
    // 12,000 rows: more than one insert statement (10,000), with repeats spanning both.
    for (let i = 0; i < 12_000; i++) lines.push(`u${i % 11_000}@example.com`);
    lines.push("ADA@example.com");
    const res = await upload(t.apiKey, id, "text/csv", lines.join("\n"));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 11_000, duplicatesRemoved: 1_001, rejected: 0, batch: { counts: { total: 11_001 } } });
    const [counts] = await query<{ n: number; distinct: number }>(
      "select count(*)::int as n, count(distinct address)::int as distinct from recipients where batch_id = $1",
      [id],
    );
    expect(counts).toEqual({ n: 11_001, distinct: 11_001 });
    const again = await upload(t.apiKey, id, "application/x-ndjson", '{"to":"u5@example.com"}\n{"to":"new@example.com"}\n');
    expect(again.body).toMatchObject({ added: 1, duplicatesRemoved: 1 });
  });

  it("header errors, empty bodies and malformed UTF-8 are problems naming what is wrong", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const noTo = await upload(t.apiKey, id, "text/csv", "email,name\na@example.com,A\n");
    expect(noTo.status).toBe(422);
    expect(noTo.body.errors).toEqual([{ path: "header", message: "no `to` column" }]);
    const dup = await upload(t.apiKey, id, "text/csv", "to,name,name,\na@example.com,A,B,C\n");
    expect(dup.status).toBe(422);
    expect(dup.body.errors.map((e: { path: string }) => e.path)).toEqual(["header.3", "header.4"]);
    expect((await upload(t.apiKey, id, "text/csv", "")).status).toBe(400);
    expect((await upload(t.apiKey, id, "text/csv", "\n\n")).status).toBe(422);
    expect((await upload(t.apiKey, id, "application/x-ndjson", "\n")).status).toBe(422);
    const bytes = new Uint8Array([0x74, 0x6f, 0x0a, 0xff, 0xfe, 0x0a]); // "to\n" then invalid UTF-8
    const raw = await SELF_fetch(t.apiKey, id, bytes);
    expect(raw.status).toBe(400);
    expect(raw.body.detail).toMatch(/UTF-8/);
    expect(await stored(id)).toHaveLength(1);
  });

  it("media types: JSON still works, anything else is 415", async () => {
    const t = await newTenant();
    const id = await draft(t);
    expect((await upload(t.apiKey, id, "text/plain", "to\na@example.com")).status).toBe(415);
    expect((await upload(t.apiKey, id, "application/xml", "<to/>")).status).toBe(415);
    const json = await call("POST", `/v1/batches/${id}/recipients`, { apiKey: t.apiKey, body: { recipients: [{ to: "j@example.com" }] } });
    expect(json.body).toMatchObject({ added: 1, rejected: 0, errors: [] });
  });

  it("the per-batch cap of 1,000,000 is a 422 naming the limit, and rolls the upload back", async () => {
    const t = await newTenant();
    const id = await draft(t);
    // The cap counts the batch's total: pretend it already holds 999,999 (one real row plus the counter).
    await query("update batches set total = 999999 where id = $1", [id]);
    const over = await upload(t.apiKey, id, "text/csv", "to\nlast@example.com\none-too-many@example.com\n");
    expect(over.status).toBe(422);
    expect(over.body.detail).toMatch(/at most 1000000 recipients/);
    expect(await stored(id)).toHaveLength(1);
    const fits = await upload(t.apiKey, id, "text/csv", "to\nlast@example.com\nada@example.com\n");
    expect(fits.body).toMatchObject({ added: 1, duplicatesRemoved: 1, batch: { counts: { total: 1_000_000 } } });
    // The JSON append is held to the same cap.
    const json = await call("POST", `/v1/batches/${id}/recipients`, { apiKey: t.apiKey, body: { recipients: [{ to: "json@example.com" }] } });
    expect(json.status).toBe(422);
  });

  it("a body over the byte limit is a 413: counted while streaming, or by a declared Content-Length up front", async () => {
    const body = new Blob(["to\n", "a@example.com\n".repeat(100)]).stream();
    const read = async () => {
      for await (const rows of streamRows(body, "csv", { maxBytes: 500, requiredColumns: ["to"] })) void rows;
    };
    await expect(read()).rejects.toMatchObject({ code: "payload_too_large" });
    expect(() => assertDeclaredLength(String(LIMITS.streamedBodyBytes + 1), LIMITS.streamedBodyBytes)).toThrow(/exceeds/);
    expect(() => assertDeclaredLength(String(LIMITS.streamedBodyBytes), LIMITS.streamedBodyBytes)).not.toThrow();
  });

  it("only drafts accept uploads (409); test and live keys see only their own mode's batches (404)", async () => {
    const live = await newTenant({ mode: "live" });
    const key = { key: await addApiKey(live.tenantId, "test") };
    const liveBatch = await draft(live, emailBatch({}, ["ada@example.com"]));
    const testBatch = (await call("POST", "/v1/batches", { apiKey: key.key, body: emailBatch({}, ["ada@example.com"]) })).body.id as string;
    for (const [k, foreign] of [
      [key.key, liveBatch],
      [live.apiKey, testBatch],
    ] as const) {
      expect((await upload(k, foreign, "text/csv", "to\nx@example.com\n")).status).toBe(404);
      expect((await upload(k, foreign, "application/x-ndjson", '{"to":"x@example.com"}\n')).status).toBe(404);
    }
    expect((await upload(key.key, testBatch, "text/csv", "to\nx@example.com\n")).body).toMatchObject({ added: 1 });
    const other = await newTenant();
    expect((await upload(other.apiKey, liveBatch, "text/csv", "to\nx@example.com\n")).status).toBe(404);
    await query("update batches set status = 'completed' where id = $1", [liveBatch]);
    const done = await upload(live.apiKey, liveBatch, "text/csv", "to\nx@example.com\n");
    expect(done.status).toBe(409);
    expect(done.body.detail).toMatch(/completed/);
    expect((await stored(liveBatch)).map((r) => r.address)).toEqual(["ada@example.com"]);
  });

  it("Idempotency-Key: a repeated streamed upload replays the first answer instead of appending twice", async () => {
    const t = await newTenant();
    const id = await draft(t);
    const csv = "to\nk1@example.com\nk2@example.com\n";
    const first = await upload(t.apiKey, id, "text/csv", csv, { headers: { "idempotency-key": "upload-1" } });
    const again = await upload(t.apiKey, id, "text/csv", csv, { headers: { "idempotency-key": "upload-1" } });
    expect(first.body).toMatchObject({ added: 2 });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
  });

  it("SMS batches: `to` must be E.164 and is normalised", async () => {
    const t = await newTenant();
    await addSendConfig(t, "sms", { fromNumber: "+15005550006" });
    const id = await draft(t, { name: "SMS", channel: "sms", message: { text: "Hi {{ name }}" }, recipients: [{ to: "+4915112345678" }] });
    const res = await upload(t.apiKey, id, "text/csv", "to,name\n+1 (415) 555-2671,Ada\nada@example.com,Bob\n");
    expect(res.body).toMatchObject({ added: 1, rejected: 1, errors: [{ line: 3, path: "to" }] });
    expect((await stored(id)).map((r) => r.address)).toEqual(["+4915112345678", "+14155552671"]);
  });
});

/** A body of raw bytes (the harness sends strings), for the invalid-UTF-8 case. */
async function SELF_fetch(apiKey: string, id: string, bytes: Uint8Array) {
  const { SELF } = await import("cloudflare:test");
  const res = await SELF.fetch(`https://api.batchsender.test/v1/batches/${id}/recipients`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv", "cf-connecting-ip": "10.9.9.9" },
    body: bytes,
  });
  return { status: res.status, body: (await res.json()) as { detail: string } };
}
