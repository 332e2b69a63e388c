import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitUntilReady } from "./stack";
import { SupervisedProcess } from "./supervisor";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bs-stack-ready-"));
const procs: SupervisedProcess[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop(2000)));
  fs.rmSync(dir, { recursive: true, force: true });
});

function child(name: string, script: string): SupervisedProcess {
  const p = new SupervisedProcess({
    name,
    logFile: path.join(dir, `${name}.log`),
    command: () => ({ command: process.execPath, args: ["-e", script] }),
    log: () => {},
  });
  procs.push(p.start());
  return p;
}

/** A child serving `status` on every path of `port`. */
const server = (port: number, status: number) =>
  `require("node:http").createServer((q, s) => { s.writeHead(${status}); s.end("status ${status}"); }).listen(${port}, "127.0.0.1")`;

describe("start-up readiness wait", () => {
  it("is bounded and names each child that is not ready, what it answered and its log", async () => {
    const stuck = child("stuck-one", server(0, 503));
    const port = 40000 + Math.floor(Math.random() * 20000);
    const stuck2 = child("stuck-two", server(port, 503));
    const started = Date.now();
    const err = await waitUntilReady(
      [
        { proc: stuck2, url: `http://127.0.0.1:${port}/health/ready` },
        // a URL nobody answers: a hung or blocked process looks like this
        { proc: stuck, url: "http://127.0.0.1:9/health/ready" },
      ],
      3000,
      () => {},
    ).catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/^not ready within 3 s:/);
    expect(message).toContain(`stuck-two: http://127.0.0.1:${port}/health/ready → HTTP 503 status 503; log: ${stuck2.logFile}`);
    expect(message).toContain(`stuck-one: http://127.0.0.1:9/health/ready → no answer`);
    expect(message).toContain(`log: ${stuck.logFile}`);
    expect(stuck.everReady).toBe(false);
  });

  it("fails at once, with the end of its log, when a child exits while starting", async () => {
    const dying = child("dying", `console.error("bad config: REGION missing"); process.exit(1)`);
    const started = Date.now();
    const err = await waitUntilReady([{ proc: dying, url: "http://127.0.0.1:9/health/ready" }], 30_000, () => {}).catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((err as Error).message).toContain(`dying exited while starting (exit code 1); see ${dying.logFile}`);
    expect((err as Error).message).toContain("bad config: REGION missing");
  });

  it("marks ready children, which starts their liveness probing", async () => {
    const port = 40000 + Math.floor(Math.random() * 20000);
    const ok = child("fine", server(port, 200));
    await waitUntilReady([{ proc: ok, url: `http://127.0.0.1:${port}/health/ready` }], 10_000, () => {});
    expect(ok.everReady).toBe(true);
  });
});
