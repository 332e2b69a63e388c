// DESIGN §12 / issue 2 point 8: the edge must bundle offline for Cloudflare without nodejs_compat.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WRANGLER_OFFLINE_ENV } from "../dev/stack";

describe("wrangler deploy --dry-run", () => {
  it("bundles edge/worker.ts offline, without nodejs_compat and without node: imports", () => {
    const settings = fs
      .readFileSync("wrangler.toml", "utf8")
      .split("\n")
      .filter((line) => !line.trimStart().startsWith("#"))
      .join("\n");
    expect(settings).toMatch(/compatibility_date\s*=/);
    expect(settings).not.toMatch(/nodejs_compat/);

    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bs-bundle-"));
    const res = spawnSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", outdir], {
      env: { ...process.env, ...WRANGLER_OFFLINE_ENV, NO_COLOR: "1" },
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(res.status, res.stderr + res.stdout).toBe(0);
    const bundle = fs.readdirSync(outdir).find((f) => f.endsWith(".js"));
    expect(bundle).toBeDefined();
    const code = fs.readFileSync(path.join(outdir, bundle!), "utf8");
    expect(code).toContain("NatsPublisher");
    expect(code).not.toMatch(/from\s+["']node:/);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
