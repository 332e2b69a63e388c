/**
 * Local stand-in for Neon's WebSocket proxy: each WebSocket connection is piped to one TCP connection to
 * Postgres, byte for byte, so the edge uses `@neondatabase/serverless` exactly as against Neon. The driver
 * asks for `ws://<proxy>/v2?address=<host>:<port>`; we only forward to the configured Postgres, never to an
 * address a client names.
 */
import net from "node:net";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface NeonProxyOptions {
  host: string;
  port: number;
  postgresHost: string;
  postgresPort: number;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startNeonProxy(opts: NeonProxyOptions): Promise<RunningServer> {
  const wss = new WebSocketServer({ host: opts.host, port: opts.port, perMessageDeflate: false });
  const sockets = new Set<net.Socket>();
  wss.on("connection", (ws: WebSocket) => {
    const tcp = net.connect({ host: opts.postgresHost, port: opts.postgresPort });
    tcp.setNoDelay(true);
    sockets.add(tcp);
    const pending: Buffer[] = [];
    let connected = false;
    tcp.on("connect", () => {
      connected = true;
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (connected) tcp.write(chunk);
      else pending.push(chunk);
    });
    tcp.on("data", (chunk) => {
      if (ws.readyState === ws.OPEN) ws.send(chunk);
    });
    const closeBoth = () => {
      sockets.delete(tcp);
      tcp.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };
    tcp.on("close", closeBoth);
    tcp.on("error", closeBoth);
    ws.on("close", closeBoth);
    ws.on("error", closeBoth);
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `${opts.host}:${port}/v2`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
