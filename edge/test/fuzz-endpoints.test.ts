// Issues 7 and 8, proof: property-based fuzzing (fast-check) of every documented operation — body, query,
// header and path parameters, media types — generated from the served OpenAPI document (edge/test/fuzz/), so
// routes added later are fuzzed without touching this file. Per operation, FUZZ_RUNS requests (default 10 inside `npm test`, which must stay within CI's time budget on 2 cores;
// `npm run fuzz` runs the issue's 1,000 per operation):
// never a 5xx; every error a complete RFC 9457 problem (type, title, status, detail, requestId); every answer
// valid against the document (call() checks it).
//
// Reproduce a failure: the message names the seed; `FUZZ_SEED=<seed> BATCHSENDER_TEST_INSTANCE=N npm test --
// edge/test/fuzz-endpoints.test.ts` generates exactly the same cases (each operation's cases depend only on
// the seed and the operation; FUZZ_ONLY="GET /v1/batches/{id}" runs only operations whose name contains it).
// Requests go FUZZ_CONCURRENCY (default 16) at a time.
import fc from "fast-check";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addApiKey, call, newTenant, type ApiResponse } from "./harness";
import { loadDocument, type Operation } from "./openapi-conformance";
import { requestArbitrary, type FuzzRequest } from "./fuzz/requests";
import { kindFor } from "./resources";

const setting = (name: string): string => String((env as unknown as Record<string, unknown>)[name] ?? "");
const RUNS = Number(setting("FUZZ_RUNS")) || 10;
const CONCURRENCY = Number(setting("FUZZ_CONCURRENCY")) || 16;
const SEED = Number(setting("FUZZ_SEED")) || Math.floor(Math.random() * 2 ** 31);
/** Only the operations whose "METHOD /template" contains one of these (comma-separated; to reproduce one). */
const ONLY = setting("FUZZ_ONLY").split(",").filter(Boolean);
/** Retries of a 503 "database busy" (eight test stacks share one Postgres): load, not input. Still a failure if it persists. */
const BUSY_RETRIES = 3;

/** Each operation's cases depend on the seed and its name only. */
function seedFor(op: Operation): number {
  let h = SEED;
  for (const ch of `${op.method} ${op.template}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

function problemDefects(res: ApiResponse): string | undefined {
  if (res.status < 400) return undefined;
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) return `an error as ${type}, not application/problem+json`;
  const missing = ["type", "title", "detail", "requestId"].filter((f) => typeof res.body?.[f] !== "string" || !res.body[f]);
  if (missing.length) return `problem without ${missing.join(", ")}`;
  if (res.body.status !== res.status) return `problem status ${res.body.status} on a ${res.status}`;
  return undefined;
}

const describeCase = (r: FuzzRequest): string =>
  `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers)}${r.omitContentType ? " (no content-type)" : ""} body: ${
    r.body instanceof Uint8Array ? `bytes [${[...r.body.slice(0, 60)]}]` : JSON.stringify(r.body)?.slice(0, 400)
  }`;

async function check(r: FuzzRequest, apiKey: string, stats: { busy: number; statuses: Record<number, number> }): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    let res: ApiResponse;
    try {
      res = await call(r.method, r.path, { apiKey, headers: r.headers, body: r.body, omitContentType: r.omitContentType });
    } catch (err) {
      return `not as documented: ${(err as Error).message.slice(0, 400)}`;
    }
    if (res.status === 503 && res.body?.code === "unavailable" && attempt < BUSY_RETRIES) {
      stats.busy++;
      await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
      continue;
    }
    stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
    if (res.status >= 500) return `${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
    return problemDefects(res);
  }
}

describe("fuzzing every documented operation (fast-check)", () => {
  // The fuzzer's own checks must be able to fail.
  it("counts an incomplete or mislabelled problem as a defect", () => {
    const problem = new Headers({ "content-type": "application/problem+json" });
    const full = { type: "t", title: "Not found", status: 404, detail: "d", requestId: "r" };
    expect(problemDefects({ status: 404, headers: problem, body: full })).toBeUndefined();
    expect(problemDefects({ status: 404, headers: problem, body: { ...full, detail: "" } })).toMatch(/without detail/);
    expect(problemDefects({ status: 404, headers: problem, body: { ...full, requestId: undefined } })).toMatch(/without requestId/);
    expect(problemDefects({ status: 422, headers: problem, body: full })).toMatch(/status 404 on a 422/);
    expect(problemDefects({ status: 404, headers: new Headers({ "content-type": "application/json" }), body: full })).toMatch(/not application\/problem\+json/);
  });

  it(`${RUNS} generated requests per operation: no 5xx, complete problems, answers as documented`, { timeout: 3_600_000 }, async () => {
    console.log(`fuzz: FUZZ_SEED=${SEED}, ${RUNS} cases per operation, ${CONCURRENCY} at a time`);
    const { operations } = await loadDocument();
    const tenant = await newTenant();
    const failures: string[] = [];
    const stats = { busy: 0, statuses: {} as Record<number, number> };
    const started = Date.now();
    let ran = 0;
    for (const op of operations) {
      const name = `${op.method} ${op.template}`;
      if (ONLY.length && !ONLY.some((o) => name.includes(o))) continue;
      // Real ids of this tenant's resources, so cases get past the lookup into the handlers.
      const ids: Record<string, string[]> = {};
      if (op.template.includes("{")) {
        const found = kindFor(op.template);
        if (!found) {
          failures.push(`${name}: no way to create its resource; register one in resourceKinds (edge/test/resources.ts)`);
          continue;
        }
        for (let i = 0; i < 2; i++) for (const [param, id] of Object.entries(await found.kind.create(tenant.apiKey))) (ids[param] ??= []).push(id);
      }
      // A key per operation: the per-key rate limit counts one operation's cases, not the whole run's.
      const apiKey = await addApiKey(tenant.tenantId, "live");
      const cases = fc.sample(requestArbitrary(op, ids), { numRuns: RUNS, seed: seedFor(op) });
      const opStarted = Date.now();
      let opFailures = 0;
      ran++;
      stats.statuses = {};
      for (let i = 0; i < cases.length; i += CONCURRENCY) {
        await Promise.all(
          cases.slice(i, i + CONCURRENCY).map(async (r, j) => {
            const defect = await check(r, apiKey, stats);
            if (!defect || opFailures++ >= 5) return;
            const line = `${name} case ${i + j} (FUZZ_SEED=${SEED}): ${defect}\n    ${describeCase(r)}`;
            console.log(`fuzz: FAILED ${line}`);
            failures.push(line);
          }),
        );
      }
      console.log(`fuzz: ${name}: ${cases.length} cases in ${((Date.now() - opStarted) / 1000).toFixed(1)} s, ${opFailures} failing, statuses ${JSON.stringify(stats.statuses)}`);
    }
    console.log(`fuzz: ${ran} operations in ${((Date.now() - started) / 1000).toFixed(1)} s, ${stats.busy} busy retries`);
    expect(failures, `FUZZ_SEED=${SEED}`).toEqual([]);
  });
});
