/**
 * Starts the project's own nats-server: JetStream plus a WebSocket listener (the machine's pre-started
 * server on 4222 has no WebSocket, and the edge can only speak WebSocket). Data lives under the project's
 * data folder so a restart keeps unsent work.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface NatsServerOptions {
  dataDir: string;
  host: string;
  clientPort: number;
  wsPort: number;
  monitorPort: number;
  binary?: string;
}

export function natsConfig(opts: NatsServerOptions): string {
  return [
    `listen: "${opts.host}:${opts.clientPort}"`,
    `http: "${opts.host}:${opts.monitorPort}"`,
    `server_name: "batchsender-local"`,
    `jetstream {`,
    `  store_dir: "${path.join(opts.dataDir, "jetstream")}"`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 8GB`,
    `}`,
    // Local only: plain ws on loopback. Production terminates TLS in front of NATS.
    `websocket {`,
    `  listen: "${opts.host}:${opts.wsPort}"`,
    `  no_tls: true`,
    `  compression: false`,
    `}`,
    `max_payload: 4MB`,
    "",
  ].join("\n");
}

export function startNatsServer(opts: NatsServerOptions): { child: ChildProcess; configPath: string; logPath: string } {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const configPath = path.join(opts.dataDir, "nats.conf");
  const logPath = path.join(opts.dataDir, "nats.log");
  fs.writeFileSync(configPath, natsConfig(opts));
  const child = spawn(opts.binary ?? "nats-server", ["-c", configPath, "-l", logPath], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return { child, configPath, logPath };
}

/** Resolves when the monitoring endpoint says JetStream is up. */
export async function waitForNats(host: string, monitorPort: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://${host}:${monitorPort}/healthz?js-enabled-only=true`);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nats-server did not become healthy in ${timeoutMs} ms: ${last}`);
}
