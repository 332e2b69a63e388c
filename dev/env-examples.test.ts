/**
 * `.env.example` (consumers) and `.dev.vars.example` (edge) are the configuration reference: every setting
 * the schemas read is documented there with a comment, nothing else is, and the example values themselves
 * pass the schemas. The key lists come from the schemas' `.shape`, so adding a setting without documenting
 * it (or documenting one that no longer exists) fails here.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConsumerConfig, parseConfig } from "../consumers/config";
import { ManagedLimitsEnv, parseManagedLimits } from "../consumers/ratelimit/limits";

const root = path.resolve(import.meta.dirname, "..");

// edge/ is type-checked by its own tsconfig (workerd types); load its schema at run time only.
interface ZodObjectLike {
  shape: Record<string, unknown>;
  safeParse(v: unknown): { success: boolean; error?: { issues: unknown } };
}
const edgeEnvModule = "../edge/env";
const { EdgeConfig } = (await import(/* @vite-ignore */ edgeEnvModule)) as { EdgeConfig: ZodObjectLike };

interface Entry {
  key: string;
  value: string;
  optional: boolean;
  comment: string;
}

/** `KEY=value` (set) and `# KEY=value` (optional, shown with its default); the comment lines just above. */
function parseExample(text: string): Entry[] {
  const entries: Entry[] = [];
  let comment: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) {
      let value = m[3]!;
      if (/^".*"$/.test(value)) value = value.slice(1, -1);
      entries.push({ key: m[2]!, value, optional: Boolean(m[1]), comment: comment.join(" ") });
      comment = [];
    } else if (line.startsWith("#")) {
      comment.push(line.replace(/^#\s?/, ""));
    } else {
      comment = [];
    }
  }
  return entries;
}

function read(file: string) {
  return parseExample(fs.readFileSync(path.join(root, file), "utf8"));
}

function expectDocumented(entries: Entry[], schemaKeys: string[]) {
  const keys = entries.map((e) => e.key);
  expect(new Set(keys).size, "each setting once").toBe(keys.length);
  expect([...keys].sort(), "documented settings = schema settings").toEqual([...schemaKeys].sort());
  for (const e of entries) expect(e.comment.length, `${e.key} has a comment`).toBeGreaterThan(10);
}

describe(".env.example (consumers)", () => {
  const entries = read(".env.example");
  const schemaKeys = [...Object.keys(ConsumerConfig.shape), ...Object.keys(ManagedLimitsEnv.shape)];

  it("documents exactly the settings of ConsumerConfig and ManagedLimitsEnv", () => {
    expectDocumented(entries, schemaKeys);
  });

  it("its required settings are set, and the example values pass the schemas", () => {
    const env = Object.fromEntries(entries.filter((e) => !e.optional).map((e) => [e.key, e.value]));
    for (const [key, field] of Object.entries(ConsumerConfig.shape)) {
      if (!field.safeParse(undefined).success) expect(env, `${key} is required: not commented out`).toHaveProperty(key);
    }
    expect(() => parseConfig(env)).not.toThrow();
    // Optional lines show valid values too (empty means "unset").
    const all = Object.fromEntries(entries.map((e) => [e.key, e.value]));
    expect(() => parseConfig(all)).not.toThrow();
    expect(() => parseManagedLimits(all)).not.toThrow();
  });

  it("the schema check catches drift both ways", () => {
    const documented = entries.map((e) => e.key);
    expect(() => expectDocumented(entries.slice(1), schemaKeys)).toThrow();
    expect(() => expectDocumented(entries, [...schemaKeys, "NEW_SETTING"])).toThrow();
    expect(documented).toContain("SHUTDOWN_GRACE_SECONDS");
  });
});

describe(".dev.vars.example (edge)", () => {
  const entries = read(".dev.vars.example");

  it("documents exactly the settings of EdgeConfig", () => {
    expectDocumented(entries, Object.keys(EdgeConfig.shape));
  });

  it("its example values pass EdgeConfig", () => {
    const env = Object.fromEntries(entries.filter((e) => !e.optional).map((e) => [e.key, e.value]));
    const res = EdgeConfig.safeParse(env);
    expect(res.success, JSON.stringify(res.error?.issues)).toBe(true);
  });

  it(".dev.vars itself stays out of git", () => {
    const ignore = fs.readFileSync(path.join(root, ".gitignore"), "utf8").split("\n");
    expect(ignore).toContain(".dev.vars");
    expect(ignore).toContain(".env");
  });
});
