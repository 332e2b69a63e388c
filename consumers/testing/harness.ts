/**
 * Integration-test harness for the consumers: a private nats-server (port range 20300–20399, temp data dir,
 * stopped by PID), the shared test Postgres, the provider sandbox in-process, and rows written the way the
 * edge leaves them. Each test makes its own tenant, so tests never share state.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import pino from "pino";
import { parseConfig, type ConsumerConfig } from "../config";
import { LOCAL_ENCRYPTION_KEY, localUrls, sandboxCredentials, testInstance } from "../../dev/config";
import { startNatsServer, waitForNats } from "../../dev/nats-server";
import { startSandbox } from "../../dev/sandbox/server";
import type { TokenTaker } from "../app";

export type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

export const quietLog = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** Tokens always granted: these tests are about delivery correctness, not pacing. */
export const unlimitedTokens = (): TokenTaker => ({ bucketsFor: () => [], takeTokens: async () => undefined });

export async function startTestNats(requestedPort: number): Promise<{ url: string; nc: NatsConnection; stop(): Promise<void> }> {
  // Shifted like the test stack's ports, so checkouts running their suites side by side do not collide.
  const basePort = requestedPort + 200 * testInstance();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bs-consumers-nats-"));
  const { child } = startNatsServer({ dataDir: dir, host: "127.0.0.1", clientPort: basePort, monitorPort: basePort + 1, wsPort: basePort + 2 });
  await waitForNats("127.0.0.1", basePort + 1);
  const url = `nats://127.0.0.1:${basePort}`;
  const nc = await connect({ servers: url });
  return {
    url,
    nc,
    async stop() {
      await nc.close().catch(() => undefined);
      await killChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function killChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

export function testConfig(natsUrl: string, sandboxUrl: string, extra: Record<string, string> = {}): ConsumerConfig {
  const urls = localUrls("test");
  return parseConfig({
    REGION: "falkenstein",
    DATABASE_URL: urls.databaseUrl,
    REDIS_URL: urls.redisUrl,
    NATS_URL: natsUrl,
    HTTP_PORT: "0",
    SES_ENDPOINT: sandboxUrl,
    SES_REGION: sandboxCredentials.ses.region,
    SES_ACCESS_KEY_ID: sandboxCredentials.ses.accessKeyId,
    SES_SECRET_ACCESS_KEY: sandboxCredentials.ses.secretAccessKey,
    RESEND_API_URL: sandboxUrl,
    RESEND_API_KEY: sandboxCredentials.resend.apiKey,
    TELNYX_API_URL: sandboxUrl,
    TELNYX_API_KEY: sandboxCredentials.telnyx.apiKey,
    TELNYX_MESSAGING_PROFILE_ID: sandboxCredentials.telnyx.messagingProfileId,
    ENCRYPTION_KEYS: JSON.stringify({ [LOCAL_ENCRYPTION_KEY.id]: LOCAL_ENCRYPTION_KEY.key }),
    SENDER_CONCURRENCY: "8",
    SHUTDOWN_GRACE_SECONDS: "5",
    LOG_LEVEL: "silent",
    ...extra,
  });
}

export function testPool(): pg.Pool {
  return new pg.Pool({ connectionString: localUrls("test").databaseUrl, max: 4 });
}

export type TestProvider = "ses" | "resend" | "telnyx";

export async function createTenantWithConfig(pool: pg.Pool, provider: TestProvider): Promise<{ tenantId: string; sendConfigId: string }> {
  const t = await pool.query<{ id: string }>("insert into tenants (name) values ($1) returning id", [`consumers-int ${crypto.randomUUID().slice(0, 8)}`]);
  const tenantId = t.rows[0]!.id;
  const channel = provider === "telnyx" ? "sms" : "email";
  const defaults = provider === "telnyx" ? { fromNumber: "+12125550100" } : { from: "Int <int@demo.batchsender.dev>" };
  const c = await pool.query<{ id: string }>(
    `insert into send_configs (tenant_id, name, channel, mode, provider, defaults) values ($1, $2, $3, 'managed', $4, $5) returning id`,
    [tenantId, `managed ${provider}`, channel, provider, JSON.stringify(defaults)],
  );
  return { tenantId, sendConfigId: c.rows[0]!.id };
}

export function addressFor(provider: TestProvider, i: number): string {
  return provider === "telnyx" ? `+1212555${String(1000 + i).padStart(4, "0")}` : `r${i}@example.com`;
}

/** A batch in `status` with `count` queued recipients, counters as the edge sets them. Returns ids in order. */
export async function createBatch(
  pool: pg.Pool,
  opts: { tenantId: string; sendConfigId: string; provider: TestProvider; count: number; status?: string; dryRun?: boolean },
): Promise<{ batchId: string; ids: number[] }> {
  const channel = opts.provider === "telnyx" ? "sms" : "email";
  const payload =
    channel === "sms"
      ? { channel, text: "Hi {{ name }}" }
      : { channel, from: "Int <int@demo.batchsender.dev>", subject: "Hello {{ name }}", text: "Hi {{ name }}" };
  const b = await pool.query<{ id: string }>(
    `insert into batches (tenant_id, send_config_id, name, channel, payload, status, total, queued, region, dry_run, queued_at)
     values ($1, $2, 'int', $3, $4, $5, $6, $6, 'falkenstein', $7, now()) returning id`,
    [opts.tenantId, opts.sendConfigId, channel, JSON.stringify(payload), opts.status ?? "queued", opts.count, opts.dryRun ?? false],
  );
  const batchId = b.rows[0]!.id;
  const addresses = Array.from({ length: opts.count }, (_, i) => addressFor(opts.provider, i));
  const r = await pool.query<{ id: string }>(
    `insert into recipients (batch_id, tenant_id, address, variables, status)
     select $1, $2, a, jsonb_build_object('name', 'R' || ord), 'queued' from unnest($3::text[]) with ordinality as t(a, ord)
     returning id`,
    [batchId, opts.tenantId, addresses],
  );
  return { batchId, ids: r.rows.map((x) => Number(x.id)).sort((a, c) => a - c) };
}

export async function batchRow(pool: pg.Pool, batchId: string) {
  const { rows } = await pool.query<{ status: string; total: number; queued: number; sent: number; failed: number; cancelled: number; suppressed: number }>(
    "select status, total, queued, sent, failed, cancelled, suppressed from batches where id = $1",
    [batchId],
  );
  return rows[0]!;
}

export async function statusCounts(pool: pg.Pool, batchId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: number }>("select status, count(*)::int as n from recipients where batch_id = $1 group by status", [batchId]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Resolves once a durable consumer has nothing pending and nothing unacked. */
export async function waitIdle(nc: NatsConnection, stream: string, durable: string, timeoutMs = 30_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await waitFor(
    `${durable} idle`,
    async () => {
      const i = await jsm.consumers.info(stream, durable);
      return i.num_pending === 0 && i.num_ack_pending === 0;
    },
    timeoutMs,
  );
}

export async function sandboxConfig(sandbox: Sandbox, body: unknown): Promise<void> {
  const res = await fetch(`${sandbox.url}/_sandbox/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`sandbox config ${res.status}: ${await res.text()}`);
}
