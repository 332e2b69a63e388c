// Issue 7: the OpenAPI document the running edge serves passes `@redocly/cli lint` (recommended ruleset),
// and the reference page is served.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { stackInfo } from "./support/stack";

const run = promisify(execFile);

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1, describes every public route, and passes redocly lint", async () => {
    const res = await fetch(`${stackInfo().apiUrl}/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/batches", "/v1/batches/{id}", "/v1/batches/{id}/recipients", "/v1/batches/{id}/send", "/health"]),
    );
    const dir = await mkdtemp(join(tmpdir(), "bs-openapi-"));
    const file = join(dir, "openapi.json");
    await writeFile(file, JSON.stringify(doc));
    const lint = await run("npx", ["--no-install", "redocly", "lint", "--config", "redocly.yaml", "--format=stylish", file], {
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(lint.code, lint.out).toBe(0);
    // Warnings fail too: the document is generated, so every warning is fixable at its source.
    expect(lint.out, lint.out).not.toMatch(/You have \d+ warnings?/);
  });

  it("has a reference page at /docs", async () => {
    const res = await fetch(`${stackInfo().apiUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/v1/openapi.json");
  });
});
