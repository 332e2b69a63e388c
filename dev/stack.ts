/**
 * The whole local stack in one process tree: backing services and adapters (dev/services.ts), migrations,
 * the demo tenant, the edge in workerd (`wrangler dev`, offline), one consumer per region and the provider
 * sandbox. `npm start` runs it with the "dev" profile; `npm test` runs it with the "test" profile (other
 * ports, its own database) around vitest. Ctrl-C / SIGTERM stops every child we started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REGIONS, type Region } from "../core/contract";
import { edgeLocalBindings, HOST, LOCAL_ENCRYPTION_KEY, portsFor, sandboxCredentials, type Profile } from "./config";
import { runMigrations } from "./migrate";
import { ensureDemoTenant } from "./seed";
import { StackError, startLocalServices, type LocalUrls } from "./services";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
} as const;

export interface StackInfo {
  profile: Profile;
  apiUrl: string;
  apiKey: string;
  tenantId: string;
  sendConfigId: string;
  sandboxUrl: string;
  consumerUrls: Record<Region, string>;
  urls: LocalUrls;
  logDir: string;
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
    SES_ENDPOINT: urls.sandboxUrl,
    SES_REGION: sandboxCredentials.ses.region,
    SES_ACCESS_KEY_ID: sandboxCredentials.ses.accessKeyId,
    SES_SECRET_ACCESS_KEY: sandboxCredentials.ses.secretAccessKey,
    RESEND_API_URL: urls.sandboxUrl,
    RESEND_API_KEY: sandboxCredentials.resend.apiKey,
    TELNYX_API_URL: urls.sandboxUrl,
    TELNYX_API_KEY: sandboxCredentials.telnyx.apiKey,
    TELNYX_MESSAGING_PROFILE_ID: sandboxCredentials.telnyx.messagingProfileId,
    ENCRYPTION_KEYS: JSON.stringify({ [LOCAL_ENCRYPTION_KEY.id]: LOCAL_ENCRYPTION_KEY.key }),
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    // We pin Node 20 on purpose (DESIGN §12); the SDK's "Node 22 from 2027" notice is known and only noise.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/** Bindings the edge gets locally, as a wrangler `--env-file` (production sets them as secrets). */
export function edgeEnvFile(urls: LocalUrls, profile: Profile): string {
  const vars: Record<string, string> = {
    ENVIRONMENT: profile === "dev" ? "development" : "test",
    ...edgeLocalBindings(urls),
  };
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n");
}

function logTo(file: string): fs.WriteStream {
  return fs.createWriteStream(file, { flags: "a" });
}

async function waitForHttp(url: string, what: string, child: ChildProcess, logFile: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new StackError(`${what} exited with code ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StackError(`${what} did not answer ${url} within ${timeoutMs / 1000} s; see ${logFile}`);
}

export async function startStack(profile: Profile, log: (line: string) => void) {
  const dataDir = path.join(root, ".data", profile);
  const logDir = path.join(dataDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  // Test runs start from an empty JetStream so nothing left by an aborted run is consumed.
  if (profile === "test") fs.rmSync(path.join(dataDir, "nats"), { recursive: true, force: true });
  const ports = portsFor(profile);

  const services = await startLocalServices({ profile, dataDir, log });
  const { urls } = services;
  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;

  const stop = async () => {
    stopping = true;
    for (const { child } of children) if (child.exitCode === null) child.kill("SIGTERM");
    const deadline = Date.now() + 15_000;
    for (const { child } of children) {
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await services.stop();
  };

  const track = (name: string, child: ChildProcess, logFile: string) => {
    children.push({ name, child });
    child.on("exit", (code, signal) => {
      if (!stopping) log(`${name} exited unexpectedly (${signal ?? code}); see ${logFile}`);
    });
  };

  try {
    await runMigrations(urls.databaseUrl);
    const demo = await ensureDemoTenant(urls.databaseUrl, dataDir);

    const consumerUrls = {} as Record<Region, string>;
    for (const region of REGIONS) {
      const port = region === "falkenstein" ? ports.consumerFalkenstein : ports.consumerAshburn;
      const logFile = path.join(logDir, `consumer-${region}.log`);
      const out = logTo(logFile);
      const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "consumers/main.ts")], {
        cwd: root,
        env: { ...process.env, ...consumerEnv(urls, region, port, profile) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      track(`consumer (${region})`, child, logFile);
      consumerUrls[region] = `http://${HOST}:${port}`;
    }

    const envFile = path.join(dataDir, "edge.env");
    fs.writeFileSync(envFile, edgeEnvFile(urls, profile), { mode: 0o600 });
    const edgeLog = path.join(logDir, "edge.log");
    const edgeOut = logTo(edgeLog);
    const wrangler = spawn(
      process.execPath,
      [
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
      { cwd: root, env: { ...process.env, ...WRANGLER_OFFLINE_ENV, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    wrangler.stdout?.pipe(edgeOut);
    wrangler.stderr?.pipe(edgeOut);
    track("edge (wrangler dev)", wrangler, edgeLog);

    for (const region of REGIONS) {
      const entry = children.find((c) => c.name === `consumer (${region})`)!;
      await waitForHttp(`${consumerUrls[region]}/health/ready`, `consumer (${region})`, entry.child, path.join(logDir, `consumer-${region}.log`));
    }
    await waitForHttp(`${urls.edgeUrl}/health`, "edge (wrangler dev)", wrangler, edgeLog);

    // wrangler dev runs no Cron Triggers by itself; fire the scheduled handler as Cloudflare would.
    const cron = setInterval(() => {
      fetch(`${urls.edgeUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).catch(() => {});
    }, profile === "test" ? 5_000 : 60_000);
    cron.unref();

    const info: StackInfo = {
      profile,
      apiUrl: urls.edgeUrl,
      apiKey: demo.apiKey,
      tenantId: demo.tenantId,
      sendConfigId: demo.sendConfigId,
      sandboxUrl: urls.sandboxUrl,
      consumerUrls,
      urls,
      logDir,
    };
    return {
      info,
      stop: async () => {
        clearInterval(cron);
        await stop();
      },
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
    `Consumers: ${Object.entries(info.consumerUrls).map(([r, u]) => `${r} ${u}/metrics`).join(", ")}`,
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

  const stack = await startStack(profileArg, log);
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${signal}: stopping every process the stack started…`);
    stack.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`error while stopping: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));

  if (readyFile) fs.writeFileSync(readyFile, JSON.stringify(stack.info, null, 2));
  process.stdout.write(banner(stack.info));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    const message = err instanceof StackError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`[stack] cannot start: ${message}\n`);
    process.exit(1);
  });
}
