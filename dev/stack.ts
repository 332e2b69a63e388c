/**
 * The whole local stack in one process tree: backing services and adapters (dev/services.ts), migrations,
 * the demo tenant, the edge in workerd (`wrangler dev`, offline), CONSUMERS_PER_REGION consumers per region
 * (default 2 under `npm start`, 1 under `npm test`) and the provider sandbox. `npm start` runs it with the
 * "dev" profile; `npm test` runs it with the "test" profile (other ports, its own database) around vitest.
 *
 * Every child is supervised (dev/supervisor.ts): one that dies is restarted with exponential backoff and the
 * restart is logged here and in its log file; a consumer whose `/health` stops answering is killed and
 * restarted. Start-up waits are bounded and name the child that is not ready. Ctrl-C / SIGTERM stops
 * supervision first, then every child we started.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REGIONS, type Region } from "../core/contract";
import {
  databaseNameFor,
  edgeLocalBindings,
  managedAccountEnv,
  HOST,
  portsFor,
  redisDbFor,
  sandboxCredentials,
  urlsFor,
  type Profile,
  type StackPorts,
} from "./config";
import { compiledConsumerArgs, ensureBuilt } from "./build";
import { runMigrations } from "./migrate";
import { ensureDemoTenant } from "./seed";
import { StackError, startLocalServices, type LocalUrls } from "./services";
import { SupervisedProcess, tailOf, type BackoffPolicy, type ChildCommand, type LivenessProbe } from "./supervisor";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
} as const;

export interface StackConsumer {
  /** `consumer falkenstein#2` */
  name: string;
  region: Region;
  /** `/health`, `/health/ready`, `/metrics` of this process. */
  url: string;
  logFile: string;
}

export interface StackInfo {
  profile: Profile;
  apiUrl: string;
  apiKey: string;
  tenantId: string;
  sendConfigId: string;
  sandboxUrl: string;
  /** The first consumer of each region (every consumer is in `consumers`). */
  consumerUrls: Record<Region, string>;
  consumers: StackConsumer[];
  urls: LocalUrls;
  logDir: string;
}

export interface StackOptions {
  /** Lay the stack out elsewhere than the profile's ports, data dir, database and Redis db (a second stack). */
  layout?: { ports: StackPorts; dataDir: string; databaseName: string; redisDb: number };
  /** Default: CONSUMERS_PER_REGION, else 2 for "dev" and 1 for "test". */
  consumersPerRegion?: number;
  /** Added to every consumer's environment. */
  consumerEnv?: Record<string, string>;
  /** Added to the edge's bindings (e.g. raised rate limits for bench/api.ts). */
  edgeEnv?: Record<string, string>;
  /** Bound of the whole start-up wait for every child to be ready (default 120 s). */
  readyTimeoutMs?: number;
  backoff?: BackoffPolicy;
}

/**
 * How one consumer process is launched. Keep it this one small function: it is the single place that knows
 * whether the consumer runs from TypeScript sources (tsx) or from a build.
 */
export function consumerCommand(): { command: string; args: string[] } {
  // The compiled consumer, as the container runs it (dev/build.ts; startStack builds dist/ first when stale).
  return { command: process.execPath, args: compiledConsumerArgs() };
}

export const MAX_CONSUMERS_PER_REGION = 8;

export function consumersPerRegionFor(profile: Profile, env: Record<string, string | undefined> = process.env): number {
  const raw = env.CONSUMERS_PER_REGION ?? "";
  if (raw === "") return profile === "dev" ? 2 : 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONSUMERS_PER_REGION) {
    throw new StackError(`CONSUMERS_PER_REGION must be an integer 1–${MAX_CONSUMERS_PER_REGION}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Consumer `index` (0-based) of a region listens on the region's port + 2·index: 9101, 9103… / 9102, 9104… */
export function consumerPort(ports: StackPorts, region: Region, index: number): number {
  return (region === "falkenstein" ? ports.consumerFalkenstein : ports.consumerAshburn) + 2 * index;
}

/**
 * Managed provider rates of the local stack (per second, split between the two regions). Production uses the
 * real account quotas (consumers/ratelimit/limits.ts defaults: SES 14/s, Resend 2 req/s…); locally the sandbox
 * is the provider, so `npm start` uses a roomy but still visible pace and the test stack a fast one.
 */
export const LOCAL_MANAGED_LIMITS: Record<Profile, Record<string, string>> = {
  dev: { MANAGED_SES_RPS: "100", MANAGED_RESEND_RPS: "10", MANAGED_TELNYX_RPS: "100", TENANT_SEND_RPS: "1000" },
  test: { MANAGED_SES_RPS: "5000", MANAGED_RESEND_RPS: "500", MANAGED_TELNYX_RPS: "5000", TENANT_SEND_RPS: "100000" },
};

/** Environment of one regional consumer process; tests that spawn their own consumers reuse it. */
export function consumerEnv(urls: LocalUrls, region: Region, httpPort: number, profile: Profile = "test"): Record<string, string> {
  return {
    ...LOCAL_MANAGED_LIMITS[profile],
    REGION: region,
    DATABASE_URL: urls.databaseUrl,
    REDIS_URL: urls.redisUrl,
    NATS_URL: urls.natsUrl,
    HTTP_PORT: String(httpPort),
    ...managedAccountEnv(urls),
    TELNYX_MESSAGING_PROFILE_ID: sandboxCredentials.telnyx.messagingProfileId,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    // We pin Node 20 on purpose (DESIGN §12); the SDK's "Node 22 from 2027" notice is known and only noise.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/**
 * `npm start`: the sandbox sends every accepted message's provider webhooks (SNS, Svix, Telnyx; its default
 * realistic mix and 1–30 s delays) to the local edge, so events flow edge → JetStream → events job. Tests
 * leave it off and turn it on per test with their own settings. A failure is logged, never fatal.
 */
export async function enableSandboxEvents(urls: LocalUrls, log: (line: string) => void): Promise<void> {
  const targets = { ses: `${urls.edgeUrl}/webhooks/ses`, resend: `${urls.edgeUrl}/webhooks/resend`, telnyx: `${urls.edgeUrl}/webhooks/telnyx` };
  try {
    const res = await fetch(`${urls.sandboxUrl}/_sandbox/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ targets }) });
    if (!res.ok) throw new Error(`sandbox answered ${res.status}`);
    log(`sandbox emits provider webhooks to ${urls.edgeUrl}/webhooks/{ses,resend,telnyx}`);
  } catch (err) {
    log(`sandbox provider webhooks not enabled: ${(err as Error).message}`);
  }
}

/** Bindings the edge gets locally, as a wrangler `--env-file` (production sets them as secrets). */
export function edgeEnvFile(urls: LocalUrls, profile: Profile, extra: Record<string, string> = {}): string {
  const vars: Record<string, string> = {
    ENVIRONMENT: profile === "dev" ? "development" : "test",
    ...edgeLocalBindings(urls),
    ...extra,
  };
  return Object.entries(vars)
    // dotenv keeps single-quoted values literally; inside double quotes it would keep the JSON's backslashes.
    .map(([k, v]) => `${k}=${v.includes('"') && !v.includes("'") ? `'${v}'` : JSON.stringify(v)}`)
    .join("\n");
}

const CONSUMER_LIVENESS = { periodMs: 10_000, timeoutMs: 5_000, failureThreshold: 6 } satisfies Omit<LivenessProbe, "url">;

export interface ReadyCheck {
  proc: SupervisedProcess;
  url: string;
}

/**
 * Waits for every child to answer its readiness URL, all at once, within one bound. A child that exits before
 * it was ever ready fails the start at once (with the end of its log); at the bound, the error names every child
 * still not ready, what its URL last answered and its log file. Progress is logged every 15 s.
 */
export async function waitUntilReady(checks: ReadyCheck[], timeoutMs: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const last = new Map<ReadyCheck, string>(checks.map((c) => [c, "no answer yet"]));
  const pending = new Set(checks);
  let nextProgress = Date.now() + 15_000;
  while (pending.size > 0) {
    await Promise.all(
      [...pending].map(async (c) => {
        if (c.proc.exits > 0 || (!c.proc.running && c.proc.lastExit)) {
          const e = c.proc.lastExit;
          throw new StackError(
            `${c.proc.name} exited while starting (${e?.signal ?? `exit code ${e?.code}`}); see ${c.proc.logFile}:\n${tailOf(c.proc.logFile)}`,
          );
        }
        try {
          const res = await fetch(c.url, { signal: AbortSignal.timeout(2000) });
          if (res.ok) {
            pending.delete(c);
            c.proc.markReady();
            return;
          }
          last.set(c, `HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
        } catch (err) {
          last.set(c, `no answer (${(err as Error).name === "TimeoutError" ? "timeout" : (err as Error).message})`);
        }
      }),
    );
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const lines = [...pending].map((c) => `  ${c.proc.name}: ${c.url} → ${last.get(c)}; log: ${c.proc.logFile}`);
      throw new StackError(`not ready within ${Math.round(timeoutMs / 1000)} s:\n${lines.join("\n")}`);
    }
    if (Date.now() > nextProgress) {
      nextProgress = Date.now() + 15_000;
      log(`still waiting for ${[...pending].map((c) => `${c.proc.name} (${last.get(c)})`).join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startStack(profile: Profile, log: (line: string) => void, opts: StackOptions = {}) {
  const layout = opts.layout ?? {
    ports: portsFor(profile),
    dataDir: path.join(root, ".data", profile),
    databaseName: databaseNameFor(profile),
    redisDb: redisDbFor(profile),
  };
  const { ports, dataDir } = layout;
  const logDir = path.join(dataDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  // Test runs start from an empty JetStream so nothing left by an aborted run is consumed.
  if (profile === "test") fs.rmSync(path.join(dataDir, "nats"), { recursive: true, force: true });
  const perRegion = opts.consumersPerRegion ?? consumersPerRegionFor(profile);

  const services = await startLocalServices({
    profile,
    dataDir,
    log,
    ...(opts.layout ? { ports, urls: urlsFor(ports, layout.databaseName, layout.redisDb) } : {}),
  });
  const { urls } = services;
  const supervised: SupervisedProcess[] = [];
  let cron: NodeJS.Timeout | undefined;

  const stop = async () => {
    clearInterval(cron);
    // First no restarts anywhere (a Ctrl-C reaches every child at once), then stop in order: the consumers and
    // the edge, then the services they use.
    for (const p of [...supervised, ...services.supervised]) p.disarm();
    await Promise.all(supervised.map((p) => p.stop()));
    await services.stop();
  };

  const supervise = (name: string, logFile: string, command: () => ChildCommand, liveness?: LivenessProbe) => {
    const proc = new SupervisedProcess({ name, logFile, command, liveness, log, ...(opts.backoff ? { backoff: opts.backoff } : {}) });
    supervised.push(proc.start());
    return proc;
  };

  try {
    await runMigrations(urls.databaseUrl);
    const demo = await ensureDemoTenant(urls.databaseUrl, dataDir);

    // The consumers run compiled, as deployed (dist/consumers/main.js, built here when a source is newer).
    await ensureBuilt();
    const consumers: (StackConsumer & { proc: SupervisedProcess })[] = [];
    for (const region of REGIONS) {
      // The instances of one region share a log file: every line carries its pid, and the supervisor's lines
      // name the instance.
      const logFile = path.join(logDir, `consumer-${region}.log`);
      for (let i = 0; i < perRegion; i++) {
        const port = consumerPort(ports, region, i);
        const url = `http://${HOST}:${port}`;
        const name = `consumer ${region}#${i + 1}`;
        const env = { ...process.env, ...consumerEnv(urls, region, port, profile), ...opts.consumerEnv };
        const proc = supervise(name, logFile, () => ({ ...consumerCommand(), cwd: root, env }), { url: `${url}/health`, ...CONSUMER_LIVENESS });
        consumers.push({ name, region, url, logFile, proc });
      }
    }

    const envFile = path.join(dataDir, "edge.env");
    fs.writeFileSync(envFile, edgeEnvFile(urls, profile, opts.edgeEnv), { mode: 0o600 });
    const edge = supervise("edge (wrangler dev)", path.join(logDir, "edge.log"), () => ({
      command: process.execPath,
      args: [
        path.join(root, "node_modules/wrangler/bin/wrangler.js"),
        "dev",
        "--ip", HOST,
        "--port", String(ports.edge),
        "--inspector-port", String(ports.edge + 442),
        "--env-file", envFile,
        "--persist-to", path.join(dataDir, "wrangler"),
        "--show-interactive-dev-session=false",
        "--test-scheduled",
        "--log-level", "warn",
      ],
      cwd: root,
      env: { ...process.env, ...WRANGLER_OFFLINE_ENV, NO_COLOR: "1" },
    }));

    await waitUntilReady(
      [...consumers.map((c) => ({ proc: c.proc, url: `${c.url}/health/ready` })), { proc: edge, url: `${urls.edgeUrl}/health` }],
      opts.readyTimeoutMs ?? 120_000,
      log,
    );

    if (profile === "dev") await enableSandboxEvents(urls, log);

    // wrangler dev runs no Cron Triggers by itself; fire the scheduled handler as Cloudflare would.
    cron = setInterval(() => {
      fetch(`${urls.edgeUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).catch(() => {});
    }, profile === "test" ? 5_000 : 60_000);
    cron.unref();

    const firstOf = (region: Region) => consumers.find((c) => c.region === region)!.url;
    const info: StackInfo = {
      profile,
      apiUrl: urls.edgeUrl,
      apiKey: demo.apiKey,
      tenantId: demo.tenantId,
      sendConfigId: demo.sendConfigId,
      sandboxUrl: urls.sandboxUrl,
      consumerUrls: Object.fromEntries(REGIONS.map((r) => [r, firstOf(r)])) as Record<Region, string>,
      consumers: consumers.map(({ name, region, url, logFile }) => ({ name, region, url, logFile })),
      urls,
      logDir,
    };
    return {
      info,
      /** Every supervised child (consumers, edge, sandbox), e.g. to read a current pid. */
      supervised: [...supervised, ...services.supervised],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function banner(info: StackInfo): string {
  return [
    "",
    `BATCHSENDER_API_URL=${info.apiUrl}`,
    `BATCHSENDER_API_KEY=${info.apiKey}`,
    `BATCHSENDER_SANDBOX_URL=${info.sandboxUrl}`,
    "",
    "BatchSender is running. Try it (in another terminal, after exporting the three lines above):",
    "",
    `  curl -s -X POST "$BATCHSENDER_API_URL/v1/batches" -H "Authorization: Bearer $BATCHSENDER_API_KEY" \\`,
    `    -H "Content-Type: application/json" -d '{"name":"Hello","message":{"from":"Demo <hello@demo.batchsender.dev>",` +
      `"subject":"Hi {{ name }}","text":"Hello {{ name }}!"},"recipients":[{"to":"ada@example.com","variables":{"name":"Ada"}},` +
      `{"to":"alan@example.com","variables":{"name":"Alan"}}]}'`,
    `  curl -s -X POST "$BATCHSENDER_API_URL/v1/batches/<id>/send" -H "Authorization: Bearer $BATCHSENDER_API_KEY"`,
    `  curl -s "$BATCHSENDER_API_URL/v1/batches/<id>" -H "Authorization: Bearer $BATCHSENDER_API_KEY"`,
    `  curl -s "$BATCHSENDER_SANDBOX_URL/messages?batchId=<id>"`,
    "",
    `Consumers (supervised, restarted when they die): ${info.consumers.map((c) => `${c.name} ${c.url}/metrics`).join(", ")}`,
    `Logs: ${info.logDir}`,
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}

async function main() {
  const profileArg = process.argv.find((a) => a.startsWith("--profile="))?.split("=")[1] ?? "dev";
  if (profileArg !== "dev" && profileArg !== "test") throw new StackError(`unknown profile ${profileArg}`);
  const readyFile = process.argv.find((a) => a.startsWith("--ready-file="))?.split("=")[1];
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);

  const running: { stack?: Awaited<ReturnType<typeof startStack>> } = {};
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${signal}: stopping every process the stack started…`);
    // Still starting: exiting stops every child started so far (dev/supervisor.ts's exit hook).
    if (!running.stack) process.exit(130);
    running.stack.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`error while stopping: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGHUP", () => shutdown("SIGHUP"));

  const stack = (running.stack = await startStack(profileArg, log));
  if (shuttingDown) return;

  // Written whole, then renamed: run-tests.mjs polls for the file and must never read it half-written.
  if (readyFile) {
    fs.writeFileSync(`${readyFile}.tmp`, JSON.stringify(stack.info, null, 2));
    fs.renameSync(`${readyFile}.tmp`, readyFile);
  }
  process.stdout.write(banner(stack.info));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    const message = err instanceof StackError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`[stack] cannot start: ${message}\n`);
    process.exit(1);
  });
}
