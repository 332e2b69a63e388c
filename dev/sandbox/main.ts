/**
 * `npm run sandbox`: the provider sandbox on its own. Port from SANDBOX_PORT (default: the dev profile's
 * sandbox port), host from SANDBOX_HOST (default 127.0.0.1); stops cleanly on SIGINT/SIGTERM.
 */
import { HOST, portsFor } from "../config";
import { startSandbox } from "./server";

function portFromEnv(): number {
  const raw = process.env.SANDBOX_PORT;
  if (raw === undefined || raw === "") return portsFor("dev").sandbox;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`SANDBOX_PORT must be a port number (0-65535), got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return port;
}

const sandbox = await startSandbox({ host: process.env.SANDBOX_HOST || HOST, port: portFromEnv() });
console.log(`provider sandbox listening on ${sandbox.url}`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`provider sandbox: ${signal}, stopping`);
  sandbox.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error("provider sandbox: close failed", err);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
