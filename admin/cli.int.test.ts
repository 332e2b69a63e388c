// Issue 8: the operators' CLI against the test stack's database, checked through the running edge: the keys
// it prints authenticate with the scopes and modes it says, revocation and quotas take effect.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it, vi } from "vitest";
import { apiClient, dbPool, stackInfo } from "../test/support/stack";
import { main } from "./cli";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pool = dbPool();
afterAll(() => pool.end());

async function admin(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const fullEnv: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: stackInfo().urls.databaseUrl, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete fullEnv[k];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", path.join(root, "admin/cli.ts"), ...args], { cwd: root, env: fullEnv });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function json<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const res = await admin([...args, "--json"]);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as T;
}

/** The CLI in-process (its exit code and stderr), for the many refusal cases: a process each is slow here. */
async function adminInProcess(args: string[], env: NodeJS.ProcessEnv = { DATABASE_URL: stackInfo().urls.databaseUrl }) {
  const errors: string[] = [];
  const err = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    return { code: await main(args, env), stderr: errors.join("\n") };
  } finally {
    err.mockRestore();
    log.mockRestore();
  }
}

const tenantName = () => `cli test ${crypto.randomUUID().slice(0, 8)}`;

describe("npm run admin", { timeout: 300_000 }, () => {
  it("tenant create prints the tenant id, a live and a test key (scope admin) that work; tenant list shows it", async () => {
    const name = tenantName();
    const text = await admin(["tenant", "create", ...name.split(" ")]);
    expect(text.code, text.stderr).toBe(0);
    const tenant = /^tenant\s+([0-9a-f-]{36})$/m.exec(text.stdout)?.[1];
    const live = /^liveKey\s+(bs_live_\S+)$/m.exec(text.stdout)?.[1];
    const test = /^testKey\s+(bs_test_\S+)$/m.exec(text.stdout)?.[1];
    expect(tenant && live && test, text.stdout).toBeTruthy();

    const liveApi = apiClient(live!);
    const keys = await liveApi("GET", "/v1/api-keys");
    expect(keys.status).toBe(200);
    const body = keys.body as { data: { mode: string; scopes: string[] }[] };
    expect(body.data.map((k) => k.mode).sort()).toEqual(["live", "test"]);
    expect(body.data.every((k) => k.scopes.join() === "admin")).toBe(true);
    const testKeys = (await apiClient(test!)("GET", "/v1/api-keys")).body as { data: { mode: string }[] };
    expect(testKeys.data.map((k) => k.mode)).toEqual(["test"]);

    const list = await json<{ id: string; name: string; activeKeys: number }[]>(["tenant", "list"]);
    expect(list.find((t) => t.id === tenant)).toMatchObject({ name, activeKeys: 2 });
    const { rows } = await pool.query("select action from audit_log where tenant_id = $1 order by id", [tenant]);
    expect(rows.map((r) => r.action)).toEqual(["tenant.created", "api_key.created", "api_key.created"]);
  });

  it("key create with scopes and mode; key revoke stops it", async () => {
    const t = await json<{ tenant: string; liveKey: string }>(["tenant", "create", tenantName()]);
    const key = await json<{ id: string; key: string; mode: string; scopes: string[] }>([
      "key", "create", t.tenant, "--name", "reader", "--scopes", "batches:read", "--mode", "test",
    ]);
    expect(key).toMatchObject({ mode: "test", scopes: ["batches:read"] });
    expect(key.key).toMatch(/^bs_test_/);
    const api = apiClient(key.key);
    expect((await api("GET", "/v1/batches")).status).toBe(200);
    expect((await api("POST", "/v1/batches", {})).status).toBe(403);

    const revoked = await json<{ id: string; revokedAt: string }>(["key", "revoke", key.id]);
    expect(revoked.id).toBe(key.id);
    expect((await api("GET", "/v1/batches")).status).toBe(401);
    // Revoking again keeps the first time.
    expect((await json<{ revokedAt: string }>(["key", "revoke", key.id])).revokedAt).toBe(revoked.revokedAt);
  });

  it("quota set changes the limits GET /v1/usage reports; limits not named keep their value", async () => {
    const t = await json<{ tenant: string; liveKey: string }>(["tenant", "create", tenantName()]);
    await json(["quota", "set", t.tenant, "--active-batches", "3"]);
    const set = await json<Record<string, number>>(["quota", "set", t.tenant, "--sends-per-day", "7", "--pending-recipients", "70"]);
    expect(set).toMatchObject({ active_batches: 3, pending_recipients: 70, sends_per_day: 7 });
    const usage = (await apiClient(t.liveKey)("GET", "/v1/usage")).body as { quotas: Record<string, { limit: number }> };
    expect(Object.fromEntries(Object.entries(usage.quotas).map(([k, v]) => [k, v.limit]))).toEqual({
      active_batches: 3,
      pending_recipients: 70,
      sends_per_day: 7,
    });
  });

  it("bad usage exits 2 with the usage, unknown ids exit 1, and nothing is written", async () => {
    // One real process for the exit status; the other cases run main() in-process.
    const proc = await admin(["key", "create", "not-a-uuid"]);
    expect(proc.code).toBe(2);
    expect(proc.stderr).toMatch(/usage/);
    const t = await json<{ tenant: string }>(["tenant", "create", tenantName()]);
    const count = async () => Number((await pool.query("select count(*) from api_keys where tenant_id = $1", [t.tenant])).rows[0].count);
    const before = await count();
    for (const args of [
      [],
      ["nope"],
      ["tenant"],
      ["tenant", "create"],
      ["key", "create", "not-a-uuid"],
      ["key", "create", t.tenant, "--scopes", "batches:read,root"],
      ["key", "create", t.tenant, "--mode", "prod"],
      ["key", "create", t.tenant, "--expires", "2001-01-01T00:00:00Z"],
      ["key", "create", t.tenant, "--bogus"],
      ["quota", "set", t.tenant],
      ["quota", "set", t.tenant, "--sends-per-day", "-1"],
      ["quota", "set", t.tenant, "--sends-per-day", "99999999999"],
    ]) {
      const res = await adminInProcess(args);
      expect(res.code, args.join(" ")).toBe(2);
      expect(res.stderr, args.join(" ")).toMatch(/usage/);
    }
    const unknown = "00000000-0000-4000-8000-000000000001";
    for (const args of [["key", "create", unknown], ["key", "revoke", unknown], ["quota", "set", unknown, "--active-batches", "1"]]) {
      const res = await adminInProcess(args);
      expect(res.code, args.join(" ")).toBe(1);
      expect(res.stderr).toContain(unknown);
    }
    const noDb = await adminInProcess(["tenant", "list"], {});
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain("DATABASE_URL");
    expect(await count()).toBe(before);
  });
});
