/**
 * Integration-test harness for the consumers: a private nats-server (port range 20300–20399, temp data dir,
 * stopped by PID), the provider sandbox in-process, and waits. Rows, the test pool and the consumer
 * configuration are fixtures: test/support/fixtures.ts.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import pino from "pino";
import { testInstance } from "../../dev/config";
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
