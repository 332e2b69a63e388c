/**
 * A TCP proxy a test can cut: it forwards every connection to `target`; `cut()` destroys every open
 * connection and from then on drops new ones as soon as they arrive (the client sees its connection reset,
 * as with a network partition or a failover); `restore()` forwards again. Used in front of Postgres to
 * reproduce a database outage against consumer processes without touching the shared server.
 */
import net from "node:net";

export class TcpProxy {
  private server?: net.Server;
  private readonly open = new Set<net.Socket>();
  private isCut = false;
  port = 0;
  /** Connections accepted and forwarded (not counting the ones dropped while cut). */
  forwarded = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      if (this.isCut) return void client.destroy();
      this.forwarded++;
      const upstream = net.connect(this.target);
      this.open.add(client);
      this.open.add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Every open connection is destroyed now; new ones are dropped until `restore()`. */
  cut(): void {
    this.isCut = true;
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  restore(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** `url` with its host and port replaced by the proxy's. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(proxy.port);
  return u.toString();
}
