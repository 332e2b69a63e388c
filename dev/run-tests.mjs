// `npm test`: start the test-profile stack (its own ports and database), run every vitest project against it,
// stop the stack, and end with one plain "N passed, N failed" line. Extra arguments go to vitest.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureDependencies, root } from "./bootstrap.mjs";

ensureDependencies();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "batchsender-test-"));
const readyFile = path.join(tmp, "stack.json");
const resultsFile = path.join(tmp, "vitest.json");

const stack = spawn(process.execPath, ["--import", "tsx", path.join(root, "dev/stack.ts"), "--profile=test", `--ready-file=${readyFile}`], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
});
let stackExited = false;
stack.on("exit", () => (stackExited = true));

function stopStack() {
  return new Promise((resolve) => {
    if (stackExited) return resolve();
    stack.once("exit", resolve);
    stack.kill("SIGTERM");
    setTimeout(() => stack.kill("SIGKILL"), 30_000).unref();
  });
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopStack().then(() => process.exit(130)));

const deadline = Date.now() + 180_000;
while (!fs.existsSync(readyFile)) {
  if (stackExited) {
    console.error("[test] the test stack could not start (see the lines above)");
    process.exit(1);
  }
  if (Date.now() > deadline) {
    console.error("[test] the test stack did not become ready within 180 s");
    await stopStack();
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}
const info = JSON.parse(fs.readFileSync(readyFile, "utf8"));

const vitest = spawn(
  process.execPath,
  [path.join(root, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      BATCHSENDER_API_URL: info.apiUrl,
      BATCHSENDER_API_KEY: info.apiKey,
      BATCHSENDER_SANDBOX_URL: info.sandboxUrl,
      BATCHSENDER_STACK_FILE: readyFile,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      VITE_CONFIG_NATIVE_IGNORE_WARNING: "true",
    },
  },
);
const code = await new Promise((resolve) => vitest.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
await stopStack();

let summary = "";
try {
  const r = JSON.parse(fs.readFileSync(resultsFile, "utf8"));
  summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : "");
} catch {
  summary = "0 passed, 1 failed";
}
console.log(`\ntests: ${summary}`);
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(code);
