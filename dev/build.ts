// `npm run build` (tsx dev/build.ts): compiles the consumers (and the core/ code they import) and the migration runner to
// JavaScript in dist/ with esbuild — one ESM file per entry, npm packages left as imports (the container's
// runtime stage installs production dependencies only). Type checking stays with `npm run typecheck` (tsc).
//
//   dist/consumers/main.js   the regional consumer (`node dist/consumers/main.js`, as in the Dockerfile)
//   dist/migrate.js          `npm run migrate` compiled: the k8s PreSync migration Job runs it
//
// `ensureBuilt()` rebuilds only when a source is newer than the last build; dev/stack.ts and
// test/support/cluster.ts call it so the local stack and the fault tests start the compiled consumer.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const distDir = path.join(root, "dist");
export const consumerEntry = path.join(distDir, "consumers", "main.js");
const stampFile = path.join(distDir, ".build-stamp");

/** Output name (without .js) → source. `migrate` sits at dist/ so its repo-root lookup finds migrations/. */
const ENTRIES: Record<string, string> = {
  "consumers/main": "consumers/main.ts",
  migrate: "dev/migrate.ts",
};
/** Everything the entries may import from this repository. */
const SOURCE_DIRS = ["consumers", "core"];
const SOURCE_FILES = ["dev/migrate.ts", "package.json", "dev/build.ts"];

function newestSourceMtime() {
  let newest = 0;
  const visit = (p: string): void => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    } else if (/\.(ts|mjs|json)$/.test(p) && !/\.test\.ts$/.test(p)) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) visit(path.join(root, d));
  for (const f of SOURCE_FILES) visit(path.join(root, f));
  return newest;
}

export function isStale(): boolean {
  const stamp = fs.statSync(stampFile, { throwIfNoEntry: false });
  if (!stamp || !fs.existsSync(consumerEntry)) return true;
  return newestSourceMtime() > stamp.mtimeMs;
}

export async function build(): Promise<string[]> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([out, src]) => [out, path.join(root, src)])),
    outdir: distDir,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    sourcemap: true,
    logLevel: "warning",
    write: false,
  });
  // Write each file next to its final name and rename: a consumer starting while another process rebuilds
  // never reads a half-written file.
  for (const file of result.outputFiles) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
  fs.writeFileSync(stampFile, new Date().toISOString() + "\n");
  return result.outputFiles.map((f) => path.relative(root, f.path));
}

/** Node arguments that start the compiled consumer (what the Dockerfile's CMD runs, plus source maps). */
export function compiledConsumerArgs(): string[] {
  return ["--enable-source-maps", consumerEntry];
}

/** Builds when dist/ is missing or older than a source; returns the consumer entry. */
export async function ensureBuilt(): Promise<string> {
  if (isStale()) await build();
  return consumerEntry;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  build().then(
    (files) => console.log(`built ${files.filter((f) => f.endsWith(".js")).join(", ")}`),
    (err) => {
      console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
