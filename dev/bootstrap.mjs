// Shared by `npm start` and `npm test`: plain Node (no dependencies), so it works on a fresh clone.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Installs dependencies when node_modules is missing or older than the lock file. */
export function ensureDependencies() {
  const marker = path.join(root, "node_modules", ".package-lock.json");
  if (existsSync(marker)) return;
  process.stderr.write("[stack] node_modules is missing: running npm ci (first run only)…\n");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const res = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (res.status !== 0) {
    process.stderr.write("[stack] npm ci failed; fix the error above and run the command again\n");
    process.exit(res.status ?? 1);
  }
}
