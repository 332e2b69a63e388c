import { Gauge, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { PROBLEM_TYPE_BASE } from "../../core/domain/problem";
import { startHttpServer } from "./server";

const never = () => new Promise<void>(() => {});
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

async function serve(checks: Record<string, () => Promise<void>>, registry = new Registry()) {
  const s = await startHttpServer({ port: 0, registry, checks, timeoutMs: 300 });
  closers.push(() => {
    s.server.closeAllConnections();
    return s.close();
  });
  return `http://127.0.0.1:${s.port}`;
}

describe("consumer HTTP surface", () => {
  it("answers unknown routes and methods with the edge's problem+json", async () => {
    const base = await serve({});
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ type: `${PROBLEM_TYPE_BASE}not-found`, status: 404, code: "not_found", instance: "/nope" });

    const post = await fetch(`${base}/health`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(await post.json()).toMatchObject({ type: `${PROBLEM_TYPE_BASE}method-not-allowed`, code: "method_not_allowed" });
  });

  it("answers liveness while a readiness dependency hangs, and bounds readiness", async () => {
    const base = await serve({ postgres: never, redis: async () => {} });
    const live = await fetch(`${base}/health`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: "ok", pid: process.pid });
    const ready = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(5000) });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "not_ready", checks: { postgres: expect.stringMatching(/^down: /), redis: "ok" } });
  });

  it("bounds /metrics and answers a 503 problem when a collector hangs", async () => {
    const registry = new Registry();
    new Gauge({ name: "hanging", help: "never collects", registers: [registry], collect: never });
    const base = await serve({}, registry);
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ type: `${PROBLEM_TYPE_BASE}unavailable`, code: "unavailable", instance: "/metrics" });
  });
});
