/**
 * The consumer's own HTTP surface: `/health` (liveness: the process and its event loop answer; it touches no
 * dependency and no job state, so it answers as long as the event loop turns, whatever the jobs are doing),
 * `/health/ready` (readiness: Postgres, NATS and the bucket store all answer within the timeout; KEDA and the
 * edge's failover probe read it) and `/metrics` (Prometheus, bounded by the same timeout). Errors are RFC 9457
 * problem+json rendered by the edge's renderer (core/domain/problem.ts), so every surface speaks one format.
 */
import http from "node:http";
import type { Registry } from "prom-client";
import { AppError, toProblem } from "../../core/domain/problem";

export type ReadinessCheck = () => Promise<void>;

class TimeoutError extends Error {
  override name = "TimeoutError";
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function startHttpServer(opts: {
  host?: string;
  port: number;
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  timeoutMs?: number;
}): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    res.end(JSON.stringify(body));
  };
  const problem = (res: http.ServerResponse, err: AppError, path: string) => {
    json(res, err.status, toProblem(err, undefined, path), { "content-type": "application/problem+json", ...err.extra.headers });
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    void (async () => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return problem(res, new AppError("method_not_allowed", `${req.method} is not allowed on ${path}`, { headers: { allow: "GET, HEAD" } }), path);
      }
      if (path === "/health") return json(res, 200, { status: "ok", pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
      if (path === "/health/ready") {
        const results = await Promise.all(
          Object.entries(opts.checks).map(async ([name, check]) => {
            try {
              await withTimeout(check(), timeoutMs);
              return [name, "ok"] as const;
            } catch (err) {
              return [name, `down: ${(err as Error).message}`] as const;
            }
          }),
        );
        const ok = results.every(([, s]) => s === "ok");
        return json(res, ok ? 200 : 503, { status: ok ? "ready" : "not_ready", checks: Object.fromEntries(results) });
      }
      if (path === "/metrics") {
        let body: string;
        try {
          body = await withTimeout(opts.registry.metrics(), timeoutMs);
        } catch (err) {
          // A collector that waits on NATS (consumer info) must not hang the scrape.
          return problem(res, new AppError("unavailable", `metrics could not be collected: ${(err as Error).message}`), path);
        }
        res.writeHead(200, { "content-type": opts.registry.contentType, "cache-control": "no-store" });
        return res.end(body);
      }
      return problem(res, new AppError("not_found", `No route for ${req.method} ${path}`), path);
    })().catch(() => {
      if (!res.headersSent) problem(res, new AppError("internal", "An unexpected error occurred."), path);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({ server, port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
