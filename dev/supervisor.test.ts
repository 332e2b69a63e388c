import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { backoffDelay, SupervisedProcess, type ChildCommand } from "./supervisor";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bs-supervisor-"));
const running: SupervisedProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop(2000)));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const node = (script: string): (() => ChildCommand) => () => ({ command: process.execPath, args: ["-e", script] });

function supervise(name: string, command: () => ChildCommand, extra: Partial<ConstructorParameters<typeof SupervisedProcess>[0]> = {}) {
  const lines: string[] = [];
  const proc = new SupervisedProcess({
    name,
    logFile: path.join(dir, `${name}.log`),
    command,
    backoff: { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 },
    log: (l) => lines.push(l),
    ...extra,
  });
  running.push(proc.start());
  return { proc, lines };
}

async function until(what: string, fn: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the cap", () => {
    const p = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(p, a))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});

describe("SupervisedProcess", () => {
  it("restarts a child that keeps dying, with growing delays, logging code and attempt on both sides", async () => {
    const { proc, lines } = supervise("crasher", node("setTimeout(() => process.exit(3), 30)"));
    await until("four restarts", () => proc.exits >= 4);
    const attempts = lines.filter((l) => l.includes("exited (exit code 3"));
    expect(attempts.slice(0, 4).map((l) => /restart attempt (\d+) in (\d+) ms/.exec(l)!.slice(1).map(Number))).toEqual([
      [1, 50],
      [2, 100],
      [3, 200],
      [4, 200],
    ]);
    expect(fs.readFileSync(proc.logFile, "utf8")).toMatch(/crasher: exited \(exit code 3, pid \d+, after [\d.]+ s\); restart attempt 1 in 50 ms/);
  });

  it("does not restart once stop() was called, even with a restart pending", async () => {
    const { proc } = supervise("stopped", node("setTimeout(() => process.exit(1), 30)"), {
      backoff: { initialMs: 300, maxMs: 300, resetAfterMs: 60_000 },
    });
    await until("first exit", () => proc.exits === 1);
    await proc.stop();
    await new Promise((r) => setTimeout(r, 600));
    expect(proc.exits).toBe(1);
    expect(proc.running).toBe(false);
  });

  it("stops a child with SIGTERM and restarts it after kill -9, stopping what it left running", async () => {
    const grandchildFile = path.join(dir, "grandchild.pid");
    const script =
      `const { spawn } = require("node:child_process");` +
      `const g = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });` +
      `require("node:fs").writeFileSync(${JSON.stringify(grandchildFile)}, String(g.pid));` +
      `setInterval(() => {}, 1000);`;
    const { proc, lines } = supervise("parent", node(script));
    await until("grandchild started", () => fs.existsSync(grandchildFile));
    const grandchild = Number(fs.readFileSync(grandchildFile, "utf8"));
    const first = proc.pid!;
    process.kill(first, "SIGKILL");
    await until("restarted", () => proc.pid !== undefined && proc.pid !== first);
    await until("grandchild gone", () => !alive(grandchild), 2000);
    expect(lines.some((l) => l.includes(`parent: exited (signal SIGKILL, pid ${first}`))).toBe(true);
    const second = proc.pid!;
    await proc.stop();
    expect(alive(second)).toBe(false);
    expect(proc.lastExit).toEqual({ code: null, signal: "SIGTERM" });
  });

  it("kills and restarts a child whose liveness URL stops answering", async () => {
    const { proc, lines } = supervise("frozen", node("setInterval(() => {}, 1000)"), {
      liveness: { url: "http://127.0.0.1:9/health", periodMs: 50, timeoutMs: 50, failureThreshold: 2 },
    });
    proc.markReady();
    const first = proc.pid!;
    await until("killed for liveness and restarted", () => proc.exits >= 1 && proc.pid !== undefined && proc.pid !== first);
    expect(lines.some((l) => l.includes("did not answer 2 probes in a row") && l.includes(`killing pid ${first}`))).toBe(true);
    expect(lines.some((l) => l.includes(`frozen: exited (signal SIGKILL, pid ${first}`))).toBe(true);
  });
});
