/**
 * `npm run bench:api` — the public API's latency floor and its cheapest refusal, on this machine, in one run
 * (issue 7): p50/p99 and requests/s of
 *
 * - create: `POST /v1/batches` with 1,000 recipients (each a fresh CF-Connecting-IP: the limit never refuses);
 * - get: `GET /v1/batches/{id}` (fresh IPs too);
 * - 429: `GET /v1/batches` from one IP that is already over its limit (answered from the limiter's in-isolate
 *   block cache: no Redis, no Postgres);
 * - /health: the Worker answering without touching anything (the workerd floor here);
 *
 * each at 10 and 100 concurrent connections, against the local edge (`wrangler dev` of the test stack, on
 * BATCHSENDER_TEST_INSTANCE's ports). The limiter fails closed with a 2 s deadline here, so a slow store
 * shows as latency instead of silently skipping the limit. Goals: get and 429 p99 within 2× /health's p99.
 *
 * Streamed uploads have their own script (`npm run bench:upload`, bench/upload.ts), which starts its own stack.
 *
 * `--quick`: 3 s per row instead of 10. Prints tables; asserts nothing.
 */
import { Pool } from "undici";
import { startStack } from "../dev/stack";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 3 : 10;
const CONCURRENCY = [10, 100];
/** The per-IP limit while benchmarking; the 429 row's IP is pushed past it first. */
const IP_LIMIT = 50;

interface Target {
  name: string;
  expect: number;
  method: "GET" | "POST";
  path: () => string;
  headers: () => Record<string, string>;
  body?: string;
}

interface Row {
  name: string;
  connections: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  unexpected: string;
}

const randomIp = () => `10.${(Math.random() * 256) | 0}.${(Math.random() * 256) | 0}.${(Math.random() * 256) | 0}`;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * `connections` workers, each one request at a time on its own keep-alive connection: one warm-up request
 * each, then `seconds` of measured requests. A worker always finishes the request it started and makes at
 * least one measured request, so rows slower than the window still report (and run longer).
 */
async function load(pool: Pool, target: Target, connections: number, seconds: number): Promise<Row> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const details = new Map<number, string>();
  // A dropped connection (wrangler dev resets them under overload) counts as status 0, with its error.
  const send = async () => {
    const t0 = performance.now();
    try {
      const res = await pool.request({ method: target.method, path: target.path(), headers: target.headers(), body: target.body });
      const text = res.statusCode === target.expect ? (await res.body.dump(), "") : await res.body.text();
      return { ms: performance.now() - t0, status: res.statusCode, text };
    } catch (err) {
      return { ms: performance.now() - t0, status: 0, text: err instanceof Error ? err.message : String(err) };
    }
  };
  await Promise.all(Array.from({ length: connections }, () => send()));
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async () => {
    for (let mine = 0; performance.now() < end || mine === 0; mine++) {
      const r = await send();
      latencies.push(r.ms);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.text && !details.has(r.status)) details.set(r.status, r.text.slice(0, 200));
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const measured = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const unexpected = [...statuses]
    .filter(([s]) => s !== target.expect)
    .map(([s, n]) => `${n}×${s} ${details.get(s) ?? ""}`.replaceAll("|", "/"))
    .join(" ");
  return {
    name: target.name,
    connections,
    requests: latencies.length,
    perSecond: latencies.length / measured,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    unexpected,
  };
}

function createBody(n: number): string {
  return JSON.stringify({
    name: "bench",
    dryRun: true,
    message: { subject: "Hello {{ name }}", text: "Hi {{ name }}" },
    recipients: Array.from({ length: n }, (_, i) => ({ to: `r${i}@example.com`, variables: { name: `R${i}` } })),
  });
}

function printRows(rows: Row[]): void {
  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
  console.log("\n| row | connections | requests | req/s | p50 ms | p99 ms | p99 / /health p99 | other statuses |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---|");
  for (const r of rows) {
    const floor = rows.find((h) => h.name === "/health" && h.connections === r.connections);
    const ratio = floor ? (r.p99 / floor.p99).toFixed(2) : "-";
    console.log(`| ${r.name} | ${r.connections} | ${r.requests} | ${fmt(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${ratio} | ${r.unexpected || "-"} |`);
  }
  for (const c of CONCURRENCY) {
    const floor = rows.find((r) => r.name === "/health" && r.connections === c)!;
    for (const name of ["get", "429"]) {
      const r = rows.find((x) => x.name === name && x.connections === c)!;
      const ok = r.p99 <= 2 * floor.p99;
      console.log(`goal ${name} p99 ≤ 2× /health p99 at ${c}: ${fmt(r.p99)} vs ${fmt(floor.p99)} ms → ${ok ? "met" : "NOT met"}`);
    }
  }
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  const stack = await startStack("test", log, {
    edgeEnv: {
      IP_RATE_LIMIT: String(IP_LIMIT),
      IP_RATE_WINDOW: "60 s",
      KEY_RATE_LIMIT: "100000000",
      KEY_RATE_WINDOW: "60 s",
      RATE_LIMIT_FAILURE_POLICY: "closed",
      RATE_LIMIT_TIMEOUT_MS: "2000",
    },
  });
  const { apiUrl, apiKey } = stack.info;
  const pool = new Pool(apiUrl, { connections: Math.max(...CONCURRENCY), pipelining: 1 });
  try {
    const auth = { authorization: `Bearer ${apiKey}` };
    const body = createBody(1_000);
    const created = await pool.request({ method: "POST", path: "/v1/batches", headers: { ...auth, "content-type": "application/json", "cf-connecting-ip": randomIp() }, body });
    const batch = (await created.body.json()) as { id?: string };
    if (created.statusCode !== 201 || !batch.id) throw new Error(`create answered ${created.statusCode}: ${JSON.stringify(batch)}`);

    // The 429 row's IP: past its limit before the row starts (unauthenticated requests count too).
    const blockedIp = randomIp();
    for (let i = 0; i <= IP_LIMIT; i++) await (await pool.request({ method: "GET", path: "/v1/batches", headers: { "cf-connecting-ip": blockedIp } })).body.dump();

    const targets: Target[] = [
      { name: "/health", expect: 200, method: "GET", path: () => "/health", headers: () => ({ "cf-connecting-ip": randomIp() }) },
      { name: "get", expect: 200, method: "GET", path: () => `/v1/batches/${batch.id}`, headers: () => ({ ...auth, "cf-connecting-ip": randomIp() }) },
      { name: "429", expect: 429, method: "GET", path: () => "/v1/batches", headers: () => ({ ...auth, "cf-connecting-ip": blockedIp }) },
      {
        name: "create (1,000 recipients)",
        expect: 201,
        method: "POST",
        path: () => "/v1/batches",
        headers: () => ({ ...auth, "content-type": "application/json", "cf-connecting-ip": randomIp() }),
        body,
      },
    ];
    const rows: Row[] = [];
    for (const connections of CONCURRENCY) {
      for (const target of targets) {
        process.stderr.write(`[bench] ${target.name} at ${connections} connections…\n`);
        rows.push(await load(pool, target, connections, SECONDS));
      }
    }
    console.log(`\nbench:api — local edge (wrangler dev, test stack) at ${apiUrl}, ${SECONDS} s per row after one warm-up request per connection`);
    printRows(rows);

  } finally {
    await pool.close();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
