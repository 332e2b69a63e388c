// `npm start`: install dependencies on a fresh clone, then bring up the whole local stack (dev/stack.ts).
import { spawn } from "node:child_process";
import path from "node:path";
import { ensureDependencies, root } from "./bootstrap.mjs";

ensureDependencies();
const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "dev/stack.ts"), "--profile=dev"], {
  cwd: root,
  stdio: "inherit",
});
// Ctrl-C reaches the whole process group; a plain SIGTERM to this process is forwarded.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
