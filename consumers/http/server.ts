/**
 * The consumer's own HTTP surface: `/health` (liveness: the process answers), `/health/ready` (readiness:
 * Postgres, NATS and the bucket store all answer; KEDA and the edge's failover probe read it) and
 * `/metrics` (Prometheus). Anything else is a problem+json 404.
 */
import http from "node:http";
import type { Registry } from "prom-client";

export type ReadinessCheck = () => Promise<void>;

export function startHttpServer(opts: {
  host?: string;
  port: number;
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  timeoutMs?: number;
}): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const json = (res: http.ServerResponse, status: number, body: unknown, type = "application/json") => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  };
  const withTimeout = (p: Promise<void>) =>
    Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error("timeout")), opts.timeoutMs ?? 2000))]);

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    void (async () => {
      if (req.method !== "GET") return json(res, 405, { type: "about:blank", title: "Method Not Allowed", status: 405 }, "application/problem+json");
      if (path === "/health") return json(res, 200, { status: "ok" });
      if (path === "/health/ready") {
        const results = await Promise.all(
          Object.entries(opts.checks).map(async ([name, check]) => {
            try {
              await withTimeout(check());
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
        const body = await opts.registry.metrics();
        res.writeHead(200, { "content-type": opts.registry.contentType });
        return res.end(body);
      }
      return json(res, 404, { type: "about:blank", title: "Not Found", status: 404, detail: `no route ${path}` }, "application/problem+json");
    })().catch(() => {
      if (!res.headersSent) json(res, 500, { type: "about:blank", title: "Internal Server Error", status: 500 }, "application/problem+json");
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
