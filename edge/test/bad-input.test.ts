// Issue 7, errors: no input can produce a 5xx. NUL characters and lone surrogates (Postgres text/jsonb reject
// them), JSON nested thousands deep (recursive code overflows), and database errors caused by bad data are 4xx.
import { describe, expect, it } from "vitest";
import { call, emailBatch, newTenant } from "./harness";

const paths = (res: { body: { errors?: { path: string }[] } }) => res.body.errors?.map((e) => e.path);

describe("input that used to break the API", () => {
  it("NUL characters and lone surrogates anywhere in the body are 422 naming the field", async () => {
    const t = await newTenant();
    const post = (body: string) => call("POST", "/v1/batches", { apiKey: t.apiKey, body });
    const base = emailBatch();
    const nulName = await post(JSON.stringify({ ...base, name: "a\u0000b" }));
    expect(nulName.status).toBe(422);
    expect(paths(nulName)).toEqual(["name"]);

    const nulVariable = await post(JSON.stringify({ ...base, recipients: [{ to: "a@example.com", variables: { x: ["ok", "bad\u0000"] } }] }));
    expect(nulVariable.status).toBe(422);
    expect(paths(nulVariable)).toEqual(["recipients.0.variables.x.1"]);

    // JSON escapes produce lone surrogates that JSON.stringify would escape again, so the body is written raw.
    const loneHigh = await post(JSON.stringify(base).replace('"Hello {{ name }}"', '"Hello \\ud83d"'));
    expect(loneHigh.status).toBe(422);
    expect(paths(loneHigh)).toEqual(["message.subject"]);
    const loneLowKey = await post(JSON.stringify(base).replace('"name":"R0"', '"\\udc00":"R0"'));
    expect(loneLowKey.status).toBe(422);
    const pair = await post(JSON.stringify(base).replace('"Hello {{ name }}"', '"Hello \\ud83d\\udc4b"'));
    expect(pair.status).toBe(201);

    const appendNul = await call("POST", `/v1/batches/${pair.body.id}/recipients`, { apiKey: t.apiKey, body: { recipients: [{ to: "x\u0000@example.com" }] } });
    expect(appendNul.status).toBe(422);
  });

  it("JSON nested thousands of levels deep is 422, not a crash", async () => {
    const t = await newTenant();
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    const inVariables = JSON.stringify(emailBatch()).replace('{"name":"R0"}', `{"name":${deep(5000)}}`);
    const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: inVariables });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].message).toMatch(/nested more than/);
    const whole = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: deep(100_000) });
    expect(whole.status).toBe(422);
    const withKey = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: deep(50_000), headers: { "idempotency-key": "deep" } });
    expect(withKey.status).toBe(422);
  });

  it("NUL and garbage in paths and query strings are 404/422", async () => {
    const t = await newTenant();
    const id = (await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch() })).body.id;
    expect((await call("GET", "/v1/batches/%00", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", "/v1/batches?status=%00", { apiKey: t.apiKey })).status).toBe(422);
    expect((await call("GET", "/v1/batches?starting_after=%00", { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", "/v1/batches?limit=1e400", { apiKey: t.apiKey })).status).toBe(422);
    expect((await call("GET", `/v1/batches/${id}/recipients?starting_after=99999999999999999999`, { apiKey: t.apiKey })).status).toBe(422);
    expect((await call("GET", `/v1/batches/${id}/preview?recipient=%00`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await call("GET", `/v1/batches/${id}/preview?recipient=%ED%A0%80`, { apiKey: t.apiKey })).status).toBe(404);
  });

  it("a value Postgres cannot store is a 4xx problem, not a 500", async () => {
    const t = await newTenant();
    // Year 0 parses as an ISO date in JavaScript; Postgres rejects it (SQLSTATE 22008).
    const res = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ scheduledAt: "0000-01-01T00:00:00Z" }) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});
