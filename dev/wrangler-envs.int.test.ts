/**
 * The Worker's deploy configuration: `wrangler deploy --dry-run` (offline: bundles and validates, uploads
 * nothing) succeeds for the default environment, staging and production, and every environment carries
 * what the Worker needs — each Durable Object binding of the top level (bindings are not inherited), the
 * minute cron, a route, and every EdgeConfig setting either as a var or as a documented secret. Also the
 * dashboard's Pages project. Integration tier for the bundling time only; no service is needed.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { WRANGLER_OFFLINE_ENV } from "./stack";

const root = path.resolve(import.meta.dirname, "..");
const wranglerBin = path.join(root, "node_modules/wrangler/bin/wrangler.js");

interface ZodObjectLike {
  shape: Record<string, unknown>;
  partial(): { safeParse(v: unknown): { success: boolean; error?: { issues: unknown } } };
}
const edgeEnvModule = "../edge/env";
const { EdgeConfig } = (await import(/* @vite-ignore */ edgeEnvModule)) as { EdgeConfig: ZodObjectLike };

/** Settings that exist only in local runs (dev/stack.ts), never in Cloudflare. */
const LOCAL_ONLY = ["NEON_WS_PROXY"];

/** The secrets wrangler.toml's header lists (`#   NAME   description`, or `NAME / NAME`). */
function documentedSecrets(): string[] {
  const text = fs.readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const header = text.slice(text.indexOf("# Secrets"), text.indexOf("\nname ="));
  return [...header.matchAll(/^#\s{2,}([A-Z][A-Z0-9_]+)(?:\s*\/\s*([A-Z][A-Z0-9_]+))?\s/gm)].flatMap((m) => [m[1]!, ...(m[2] ? [m[2]] : [])]);
}

const ENVS = [undefined, "staging", "production"] as const;
/** The parts of wrangler's resolved config this test reads. */
interface WorkerConfig {
  name?: string;
  vars: Record<string, unknown>;
  routes?: (string | { pattern: string })[];
  triggers: { crons?: string[] };
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { tag: string; new_classes?: string[]; new_sqlite_classes?: string[] }[];
  pages_build_output_dir?: string;
}
const readConfigAt = (file: string, env?: string) => unstable_readConfig({ config: path.join(root, file), env }, {}) as unknown as WorkerConfig;
const read = (env?: string) => readConfigAt("wrangler.toml", env);

describe("wrangler.toml environments", () => {
  const top = read();
  const topBindings = top.durable_objects.bindings.map((b) => b.name).sort();

  it.each(ENVS.map((e) => [e ?? "default"]))("`wrangler deploy --dry-run` succeeds offline for the %s environment", (name) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bs-wrangler-"));
    try {
      const args = [wranglerBin, "deploy", "--dry-run", "--outdir", out, ...(name === "default" ? [] : ["--env", name])];
      const res = spawnSync(process.execPath, args, { cwd: root, env: { ...process.env, ...WRANGLER_OFFLINE_ENV }, encoding: "utf8", timeout: 180_000 });
      const log = `${res.stdout}${res.stderr}`;
      expect(res.status, log).toBe(0);
      for (const b of topBindings) expect(log).toContain(`env.${b} `);
      expect(fs.existsSync(path.join(out, "worker.js"))).toBe(true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 200_000);

  it.each(["staging", "production"])("%s carries every Durable Object binding, its migration, the minute cron and a route", (env) => {
    const c = read(env);
    expect(c.name).toBe(`batchsender-api-${env}`);
    expect(c.durable_objects.bindings.map((b) => b.name).sort()).toEqual(topBindings);
    const migrated = c.migrations.flatMap((m) => [...(m.new_sqlite_classes ?? []), ...(m.new_classes ?? [])]);
    for (const b of c.durable_objects.bindings) expect(migrated, `${b.class_name} has a migration`).toContain(b.class_name);
    expect(c.triggers.crons ?? []).toContain("* * * * *");
    const routes = (c.routes ?? []).map((r) => (typeof r === "string" ? r : r.pattern));
    expect(routes).toEqual([env === "production" ? "api.batchsender.com" : "api.staging.batchsender.com"]);
    expect(c.vars.ENVIRONMENT).toBe(env);
  });

  it.each(ENVS.map((e) => [e ?? "default"]))("%s: every EdgeConfig setting is a valid var or a documented secret, nothing else", (name) => {
    const c = read(name === "default" ? undefined : name);
    const vars = Object.keys(c.vars);
    const secrets = documentedSecrets();
    expect(secrets).toContain("DATABASE_URL");
    expect(vars.filter((v) => secrets.includes(v)), "a secret is never a var").toEqual([]);
    const expected = Object.keys(EdgeConfig.shape).filter((k) => !LOCAL_ONLY.includes(k));
    expect([...vars, ...secrets].sort()).toEqual(expected.sort());
    const parsed = EdgeConfig.partial().safeParse(c.vars);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});

describe("dashboard Pages project", () => {
  it("declares the project name and its build output directory", () => {
    const c = readConfigAt("dashboard/wrangler.toml");
    expect(c.name).toBe("batchsender-dashboard");
    expect(c.pages_build_output_dir).toBe(path.join(root, "dashboard/dist"));
    expect(read("production").vars.ENVIRONMENT).toBe("production");
    expect(c.vars.API_BASE_URL).toBe("https://api.batchsender.com");
  });
});
