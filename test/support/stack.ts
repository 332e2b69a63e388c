/**
 * What end-to-end tests know about the running test stack (started by `npm test`, dev/run-tests.mjs), and
 * the small helpers they share: an API client, the sandbox, Postgres (tenants: ./fixtures).
 */
import fs from "node:fs";
import pg from "pg";
import type { StackInfo } from "../../dev/stack";

export function stackInfo(): StackInfo {
  const file = process.env.BATCHSENDER_STACK_FILE;
  if (!file || !fs.existsSync(file)) {
    throw new Error("BATCHSENDER_STACK_FILE is not set: run end-to-end tests through `npm test`, which starts the stack");
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as StackInfo;
}

export function dbPool(): pg.Pool {
  return new pg.Pool({ connectionString: stackInfo().urls.databaseUrl, max: 4 });
}

export function apiClient(apiKey: string, baseUrl = stackInfo().apiUrl) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, body: json as Record<string, unknown> & { [k: string]: unknown } };
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
