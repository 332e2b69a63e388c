/**
 * The consumer Dockerfile, checked without a container daemon (none here, DESIGN §12): the base image is
 * pinned by digest, the build stage's commands compile the consumer from exactly the files the stage copies
 * (so a missing COPY fails here, not in the registry's build), and the runtime stage's contents —
 * production dependencies from the same lockfile, dist/ and migrations/ — start the compiled consumer and
 * the migration runner with no dev dependency present. Integration tier: it installs production
 * dependencies from the npm cache (~30 s), but needs no service.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const rest = m[2]!;
    if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      stages.push({ from: f[1]!, name: f[2] ?? String(stages.length), instructions: [] });
    } else if (op === "ARG" && stages.length === 0) {
      const [k, v] = rest.split("=");
      args[k!] = v ?? "";
    } else {
      stages.at(-1)?.instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

/** COPY [--from=x] [--chown=…] src… dest */
function copyOf(i: Instruction): { from?: string; sources: string[]; dest: string } {
  const words = i.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const paths = words.filter((w) => !w.startsWith("--"));
  const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

function ignoredByDockerignore(rel: string, patterns: string[]): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    const p = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      "^" +
        p
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*\*\//g, "(?:.*/)?")
          .replace(/\*/g, "[^/]*") +
        "(?:/.*)?$",
    );
    if (re.test(rel)) ignored = !negate;
  }
  return ignored;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const res = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 150_000 });
  return { code: res.status, out: `${res.stdout ?? ""}${res.stderr ?? ""}` };
}

const dockerfile = parseDockerfile(fs.readFileSync(path.join(root, "Dockerfile"), "utf8"));
const dockerignore = fs
  .readFileSync(path.join(root, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const stage = (name: string) => {
  const s = dockerfile.stages.find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage ${name}`);
  return s;
};

describe("Dockerfile (static)", () => {
  it("pins every base image by sha256 digest, node 20 bookworm-slim", () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const s of dockerfile.stages) {
      const image = s.from.replace(/^\$\{?(\w+)\}?$/, (_, k: string) => dockerfile.args[k] ?? "");
      expect(image, `stage ${s.name}`).toMatch(/^node:20-bookworm-slim@sha256:[0-9a-f]{64}$/);
    }
  });

  it("runtime: non-root numeric user, tini as PID 1, runs the compiled consumer", () => {
    const rt = dockerfile.stages.at(-1)!;
    const user = rt.instructions.filter((i) => i.op === "USER").at(-1)?.args ?? "";
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(":")[0])).toBeGreaterThan(0);
    const entrypoint = JSON.parse(rt.instructions.find((i) => i.op === "ENTRYPOINT")!.args) as string[];
    expect(entrypoint[0]).toMatch(/\/tini$/);
    expect(entrypoint).toContain("--");
    expect(rt.instructions.some((i) => i.op === "RUN" && /apt-get install .*\btini\b/.test(i.args))).toBe(true);
    const cmd = JSON.parse(rt.instructions.find((i) => i.op === "CMD")!.args) as string[];
    expect(cmd[0]).toBe("node");
    expect(cmd.at(-1)).toBe("dist/consumers/main.js");
  });

  it("runtime copies only production dependencies, dist/, package.json and migrations/", () => {
    const rt = dockerfile.stages.at(-1)!;
    const copies = rt.instructions.filter((i) => i.op === "COPY").map(copyOf);
    const fromStages = copies.filter((c) => c.from).map((c) => `${c.from}:${c.sources.join(",")}`);
    expect(fromStages.sort()).toEqual(["build:/app/dist", "deps:/app/node_modules"]);
    const fromContext = copies.filter((c) => !c.from).flatMap((c) => c.sources);
    expect(fromContext.sort()).toEqual(["migrations", "package.json"]);
    const deps = stage("deps");
    expect(deps.instructions.some((i) => i.op === "RUN" && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
  });

  it("the build context keeps secrets and local state out but keeps every file the stages copy", () => {
    for (const secret of [".env", ".dev.vars", ".data/test/x", "node_modules/x", ".git/config", "dist/x"]) {
      expect(ignoredByDockerignore(secret, dockerignore), secret).toBe(true);
    }
    for (const s of dockerfile.stages) {
      for (const c of s.instructions.filter((i) => i.op === "COPY").map(copyOf)) {
        if (c.from) continue;
        for (const src of c.sources) {
          expect(fs.existsSync(path.join(root, src)), `${src} exists`).toBe(true);
          expect(ignoredByDockerignore(src, dockerignore), `${src} is in the build context`).toBe(false);
        }
      }
    }
  });
});

describe("Dockerfile stages, replayed without a daemon", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bs-docker-"));
  const buildDir = path.join(tmp, "build");
  const runtimeDir = path.join(tmp, "runtime");

  /** COPY from the build context into `dir`, honouring .dockerignore. */
  function copyFromContext(dir: string, sources: string[], dest: string) {
    const target = path.resolve(dir, dest.replace(/^\/app\/?/, "./"));
    for (const src of sources) {
      const to = dest.endsWith("/") && !fs.statSync(path.join(root, src)).isDirectory() ? path.join(target, path.basename(src)) : target;
      fs.cpSync(path.join(root, src), to, {
        recursive: true,
        filter: (p) => {
          const rel = path.relative(root, p);
          return rel === "" || !ignoredByDockerignore(rel, dockerignore);
        },
      });
    }
  }

  beforeAll(() => {
    fs.mkdirSync(buildDir, { recursive: true });
    fs.mkdirSync(runtimeDir, { recursive: true });
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("build stage: its COPY list is enough for its `npm run build`", () => {
    for (const i of stage("build").instructions) {
      if (i.op === "COPY") {
        const c = copyOf(i);
        copyFromContext(buildDir, c.sources, c.dest);
      } else if (i.op === "RUN" && /^npm ci\b/.test(i.args)) {
        // Same lockfile: the checkout's installed node_modules stands in for `npm ci`.
        fs.symlinkSync(path.join(root, "node_modules"), path.join(buildDir, "node_modules"));
      } else if (i.op === "RUN") {
        const res = run("sh", ["-c", i.args], buildDir);
        expect(res.code, res.out).toBe(0);
      }
    }
    expect(fs.existsSync(path.join(buildDir, "dist/consumers/main.js"))).toBe(true);
    expect(fs.existsSync(path.join(buildDir, "dist/migrate.js"))).toBe(true);
    // Only what the Dockerfile copied was there: no test or edge code.
    expect(fs.existsSync(path.join(buildDir, "edge"))).toBe(false);
  }, 120_000);

  it("runtime stage: production dependencies + dist start the consumer and the migration runner", () => {
    // deps stage, from the npm cache the checkout's `npm ci` filled.
    for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(root, f), path.join(tmp, f));
    const depsCmd = stage("deps").instructions.find((i) => i.op === "RUN" && /^npm ci\b/.test(i.args))!.args.split("&&")[0]!.trim();
    const deps = run("sh", ["-c", `${depsCmd} --offline`], tmp);
    expect(deps.code, deps.out).toBe(0);
    for (const devOnly of ["vitest", "wrangler", "typescript", "kubernetes-models"]) {
      expect(fs.existsSync(path.join(tmp, "node_modules", devOnly)), `${devOnly} is a dev dependency`).toBe(false);
    }
    // runtime stage's COPYs
    fs.renameSync(path.join(tmp, "node_modules"), path.join(runtimeDir, "node_modules"));
    fs.cpSync(path.join(buildDir, "dist"), path.join(runtimeDir, "dist"), { recursive: true });
    copyFromContext(runtimeDir, ["package.json"], "./");
    copyFromContext(runtimeDir, ["migrations"], "./migrations");

    const cmd = JSON.parse(dockerfile.stages.at(-1)!.instructions.find((i) => i.op === "CMD")!.args) as string[];
    const bare = { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production" };
    // Every import of the compiled consumer resolves (ESM links all imports before running): it reaches
    // config validation and fails closed on the empty env with its one-line message.
    const consumer = run(cmd[0]!, cmd.slice(1), runtimeDir, bare);
    expect(consumer.out).toContain("invalid consumer configuration");
    expect(consumer.out).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    expect(consumer.code).toBe(1);
    // The migration Job's command: imports resolve, it reaches the database (refused on port 1).
    const migrate = run("node", ["dist/migrate.js"], runtimeDir, { ...bare, DATABASE_URL: "postgres://nobody@127.0.0.1:1/x" });
    expect(migrate.out).toContain("migration failed");
    expect(migrate.out).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    expect(migrate.code).toBe(1);
  }, 180_000);
});
