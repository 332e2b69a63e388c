// NOT YET IN THE SUITE (named .fuzz.ts so vitest skips it): its first run found Postgres 53300 (too many
// connections, from 16 concurrent requests each opening a pool) answered 500 — now 503 with Retry-After —
// and two endpoints took longer than 300 s. To run: copy to edge/test/*.test.ts and `npm test -- <file>`.
// Issue 7, proof: property-based fuzzing (fast-check) of every endpoint's body, query and path parameters,
// ≥ 1,000 generated requests per endpoint: never a 5xx, and every answer conforms to the OpenAPI document
// (call() checks status and body against it; an error must be a valid problem document).
//
// Generation follows the route schemas: a valid request of each endpoint is the seed, and each case either
// replaces one field with hostile JSON (NUL, lone surrogates, deep nesting, huge numbers, wrong types), drops
// or adds fields, or sends arbitrary bytes; path ids and query values are arbitrary strings (percent-encoded).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, emailBatch, newTenant, type TestTenant } from "../test/harness";

const RUNS = 1000;
const CONCURRENCY = 4;

const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("\u0000", "a\u0000b", "\ud800", "x\udfff", "{{ x", "{% if %}", "'; drop table batches; --", "%00", "../../etc", "+", "𝓍".repeat(50)),
  fc.string({ maxLength: 20 }),
);
const deep = fc.integer({ min: 1, max: 3000 }).map((n) => JSON.parse("[".repeat(n) + "]".repeat(n)) as unknown);
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.jsonValue({ maxDepth: 4 }),
  deep,
  fc.constantFrom(null, true, -1, 0, 1e308, -1e308, 1.5, Number.MAX_SAFE_INTEGER + 2),
  fc.array(hostileString, { maxLength: 5 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 4 }),
);

/** A path into a JSON value (object keys and array indexes), chosen at random. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.slice(0, 3).map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setAt(root: unknown, path: (string | number)[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove) {
    if (Array.isArray(at)) at.splice(Number(last), 1);
    else delete at[last];
  } else at[last] = replacement;
  return copy;
}

/** Bodies derived from a valid seed: one field mutated, removed, or an extra field; or raw text. */
function bodiesFrom(seed: unknown): fc.Arbitrary<string> {
  const candidates = paths(seed);
  const mutated = fc
    .record({ path: fc.constantFrom(...candidates), value: hostileJson, remove: fc.boolean(), extra: fc.option(fc.tuple(hostileString, hostileJson)) })
    .map(({ path, value, remove, extra }) => {
      let body = setAt(seed, path, value, remove);
      if (extra && body && typeof body === "object" && !Array.isArray(body)) body = { ...(body as object), [extra[0]]: extra[1] };
      return JSON.stringify(body);
    });
  return fc.oneof(
    { weight: 8, arbitrary: mutated },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(seed)) },
  );
}

const pathSegment = fc.oneof(fc.uuid({ version: 4 }), hostileString.map((s) => encodeURIComponent(s) || "x"));
const queryValue = fc.oneof(hostileString, fc.integer().map(String), fc.constantFrom("draft", "sent", "email", "1", "100", "1001", "-1", "1e400"));

function queryString(keys: string[]): fc.Arbitrary<string> {
  return fc
    .dictionary(fc.oneof(fc.constantFrom(...keys), hostileString), queryValue, { maxKeys: 3 })
    .map((q) => new URLSearchParams(q).toString());
}

let tenant: TestTenant;
let draftId: string;

async function runCases(cases: { method: string; path: string; body?: string; headers?: Record<string, string> }[], apiKey: string) {
  for (let i = 0; i < cases.length; i += CONCURRENCY) {
    await Promise.all(
      cases.slice(i, i + CONCURRENCY).map(async (c) => {
        const res = await call(c.method, c.path, { apiKey, body: c.body, headers: c.headers });
        expect(res.status, `${c.method} ${c.path} ${String(c.body).slice(0, 300)} → ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
      }),
    );
  }
}

interface Endpoint {
  name: string;
  cases: () => fc.Arbitrary<{ method: string; path: string; body?: string; headers?: Record<string, string> }>;
}

const contentType = fc.oneof(
  { weight: 9, arbitrary: fc.constant({ "content-type": "application/json" }) },
  { weight: 1, arbitrary: fc.constantFrom({ "content-type": "text/plain" }, { "content-type": "application/x-www-form-urlencoded" }, { "content-type": "application/json; charset=utf-16" }) },
);
const idempotency = fc.option(hostileString.map((k) => ({ "idempotency-key": k.replace(/[^\x20-\x7e]/g, "") || "k" })), { nil: undefined });

const endpoints: Endpoint[] = [
  {
    name: "POST /v1/batches",
    cases: () =>
      fc.record({ body: bodiesFrom(emailBatch()), ct: contentType, key: idempotency }).map(({ body, ct, key }) => ({ method: "POST", path: "/v1/batches", body, headers: { ...ct, ...key } })),
  },
  {
    name: "POST /v1/batches (sms and webhook shapes)",
    cases: () =>
      fc
        .oneof(
          bodiesFrom({ name: "s", channel: "sms", message: { text: "Hi {{ n }}" }, recipients: [{ to: "+4915112345678", variables: { n: 1 } }] }),
          bodiesFrom({ name: "w", channel: "webhook", message: { url: "{{ to }}", body: "{}" }, recipients: [{ to: "https://hooks.example.com/a" }] }),
        )
        .map((body) => ({ method: "POST", path: "/v1/batches", body, headers: { "content-type": "application/json" } })),
  },
  { name: "GET /v1/batches", cases: () => queryString(["limit", "starting_after", "status", "channel"]).map((q) => ({ method: "GET", path: `/v1/batches?${q}` })) },
  {
    name: "GET /v1/batches/{id}",
    cases: () => fc.oneof(pathSegment, fc.constant(draftId)).map((id) => ({ method: "GET", path: `/v1/batches/${id}` })),
  },
  {
    name: "POST /v1/batches/{id}/recipients",
    cases: () =>
      fc
        .record({ id: fc.oneof({ weight: 3, arbitrary: fc.constant(draftId) }, { weight: 1, arbitrary: pathSegment }), body: bodiesFrom({ recipients: [{ to: "fuzz@example.com", variables: { a: 1 } }] }), ct: contentType })
        .map(({ id, body, ct }) => ({ method: "POST", path: `/v1/batches/${id}/recipients`, body, headers: ct })),
  },
  {
    name: "GET /v1/batches/{id}/recipients",
    cases: () =>
      fc
        .record({ id: fc.oneof(fc.constant(draftId), pathSegment), q: queryString(["limit", "starting_after", "status"]) })
        .map(({ id, q }) => ({ method: "GET", path: `/v1/batches/${id}/recipients?${q}` })),
  },
  {
    name: "GET /v1/batches/{id}/preview",
    cases: () =>
      fc
        .record({ id: fc.oneof(fc.constant(draftId), pathSegment), q: queryString(["recipient"]) })
        .map(({ id, q }) => ({ method: "GET", path: `/v1/batches/${id}/preview?${q}` })),
  },
  ...["send", "pause", "resume", "cancel", "retry"].map(
    (action): Endpoint => ({
      name: `POST /v1/batches/{id}/${action}`,
      cases: () =>
        fc
          .record({ id: fc.oneof(pathSegment, fc.constant(draftId)), key: idempotency, body: fc.option(fc.string({ unit: "binary", maxLength: 50 }), { nil: undefined }) })
          .map(({ id, key, body }) => ({ method: "POST", path: `/v1/batches/${id}/${action}`, body, headers: { ...key } })),
    }),
  ),
  {
    name: "POST /v1/api-keys",
    cases: () =>
      fc
        .record({ body: bodiesFrom({ name: "fuzz", scopes: ["batches:read"], mode: "live", expiresAt: "2099-01-01T00:00:00Z" }), ct: contentType, key: idempotency })
        .map(({ body, ct, key }) => ({ method: "POST", path: "/v1/api-keys", body, headers: { ...ct, ...key } })),
  },
  { name: "GET /v1/api-keys", cases: () => queryString(["limit", "starting_after"]).map((q) => ({ method: "GET", path: `/v1/api-keys?${q}` })) },
  {
    name: "GET and DELETE /v1/api-keys/{id}",
    // Never the calling key's own id: revoking it would turn the rest of the run into 401s.
    cases: () => fc.record({ id: pathSegment, method: fc.constantFrom("GET", "DELETE") }).map(({ id, method }) => ({ method, path: `/v1/api-keys/${id}` })),
  },
  { name: "GET /v1/usage", cases: () => queryString(["limit"]).map((q) => ({ method: "GET", path: `/v1/usage?${q}` })) },
];

describe("fuzzing every endpoint (fast-check)", () => {

  for (const endpoint of endpoints) {
    it(`${endpoint.name}: ${RUNS} generated requests, no 5xx, every answer as documented`, { timeout: 300_000 }, async () => {
      // Each endpoint on its own tenant, key and draft: 1,000 requests stay under the test profile's per-key limit.
      tenant = await newTenant();
      draftId = (await call("POST", "/v1/batches", { apiKey: tenant.apiKey, body: emailBatch() })).body.id;
      const cases = fc.sample(endpoint.cases(), { numRuns: RUNS, seed: 7 });
      expect(cases.length).toBe(RUNS);
      await runCases(cases, tenant.apiKey);
    });
  }
});
