/**
 * What a process manager (or Kubernetes) does for the local stack's children: start a child with its output
 * appended to its log file, restart it when it dies with exponential backoff (capped, and reset once it has
 * run healthily for a while), optionally kill and restart it when its liveness URL stops answering, and log
 * every restart — with exit code or signal and attempt number — both to the stack's stderr and into the
 * child's log file. `stop()` disables restarts first, so a Ctrl-C never races a restart.
 *
 * Hand-written rather than pm2 & co.: those are daemons with their own state directory and CLI; the stack needs
 * ~200 lines it owns. Children stay in the stack's process group, so a terminal's Ctrl-C or `kill -- -<pgid>`
 * reaches them exactly as before; what a dead child leaves behind is found by the marker below.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";

export interface ChildCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface BackoffPolicy {
  /** Delay before the first restart. */
  initialMs: number;
  /** Ceiling of the doubling delay. */
  maxMs: number;
  /** A child that ran this long before dying counts as healthy: its next restart starts from initialMs again. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export interface LivenessProbe {
  url: string;
  periodMs: number;
  timeoutMs: number;
  /** Consecutive failed probes (after the child was ready once) before it is killed and restarted. */
  failureThreshold: number;
}

export interface SupervisedOptions {
  /** Shown in every log line: `consumer falkenstein#2`. */
  name: string;
  logFile: string;
  command: () => ChildCommand;
  backoff?: BackoffPolicy;
  liveness?: LivenessProbe;
  log: (line: string) => void;
}

/** Delay before restart number `attempt` (1-based). */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Set in each child's environment, unique per spawn, and inherited by everything it starts. `wrangler dev` runs
 * workerd under a second node process: when the process we started dies (kill -9), those descendants are
 * re-parented and would keep its port, so every restart would fail. On a child's exit the supervisor finds
 * them by this marker (and their own children by parent pid) and stops them. Linux (/proc) only; elsewhere
 * nothing is found and nothing is killed.
 */
export const SUPERVISED_MARKER = "BATCHSENDER_SUPERVISED_ID";
let spawns = 0;

/** Children alive in this process: if it exits without stop() (a crash, a signal during start-up), they stop too. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGTERM");
});

/** Pids of the processes carrying `marker=id`, plus all their descendants. */
export function markedProcesses(id: string, marker = SUPERVISED_MARKER): number[] {
  if (process.platform !== "linux") return [];
  const needle = `${marker}=${id}\0`;
  const parentOf = new Map<number, number>();
  const marked = new Set<number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "latin1");
      // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ")".
      parentOf.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "latin1");
      if (environ.startsWith(needle) || environ.includes(`\0${needle}`)) marked.add(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!marked.has(pid) && marked.has(ppid)) {
        marked.add(pid);
        grew = true;
      }
    }
  }
  return [...marked];
}

/** SIGTERM to what a dead child left behind, SIGKILL to whatever is left of it `graceMs` later. */
function stopLeftovers(id: string, graceMs = 2000): number[] {
  const pids = markedProcesses(id);
  for (const pid of pids) signal(pid, "SIGTERM");
  if (pids.length > 0) {
    setTimeout(() => {
      for (const pid of markedProcesses(id)) signal(pid, "SIGKILL");
    }, graceMs).unref();
  }
  return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export class SupervisedProcess {
  readonly name: string;
  readonly logFile: string;
  private child?: ChildProcess;
  private spawnId = "";
  private startedAt = 0;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  private probeFailures = 0;
  private attempt = 0;
  private readonly backoff: BackoffPolicy;
  /** Times the child exited while the stack was running (not counting `stop()`). */
  exits = 0;
  /** Set once `markReady()` is called (the stack saw it ready); liveness probes start then. */
  everReady = false;
  lastExit?: { code: number | null; signal: NodeJS.Signals | null };

  constructor(private readonly opts: SupervisedOptions) {
    this.name = opts.name;
    this.logFile = opts.logFile;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A line in the child's own log file, marked as the stack's. */
  note(line: string): void {
    try {
      fs.appendFileSync(this.logFile, `[stack] ${new Date().toISOString()} ${this.name}: ${line}\n`);
    } catch {
      // the log file is a convenience; never let it stop the supervision
    }
  }

  start(): this {
    const { command, args, env, cwd } = this.opts.command();
    this.spawnId = `${process.pid}.${++spawns}`;
    // The child writes straight into its log file (not through a pipe to us): its output is never lost or
    // blocked by the stack's own event loop, and appends of several children to one file stay line-atomic.
    const fd = fs.openSync(this.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd, env: { ...(env ?? process.env), [SUPERVISED_MARKER]: this.spawnId }, stdio: ["ignore", fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    this.child = child;
    live.add(child);
    this.startedAt = Date.now();
    this.probeFailures = 0;
    this.note(`started (pid ${child.pid})`);
    child.once("error", (err) => {
      // spawn failures (ENOENT…) also end in "exit" or never start: treat them like an exit
      this.note(`could not start: ${err.message}`);
      this.opts.log(`${this.name} could not start: ${err.message}; see ${this.logFile}`);
    });
    child.once("exit", (code, signal) => this.onExit(child, code, signal));
    return this;
  }

  /** Called by the stack once the child answered its readiness check: liveness probing starts. */
  markReady(): void {
    if (this.everReady) return;
    this.everReady = true;
    if (this.opts.liveness) this.scheduleProbe(this.opts.liveness);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    live.delete(child);
    if (child !== this.child) return;
    // Whatever the child left behind goes with it (see SUPERVISED_MARKER).
    const leftovers = stopLeftovers(this.spawnId);
    if (leftovers.length > 0) this.note(`stopped what it left running: pids ${leftovers.join(", ")}`);
    this.lastExit = { code, signal };
    if (this.stopping) return;
    this.exits += 1;
    const ranMs = Date.now() - this.startedAt;
    if (ranMs >= this.backoff.resetAfterMs) this.attempt = 0;
    this.attempt += 1;
    const delay = backoffDelay(this.backoff, this.attempt);
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const line = `exited (${how}, pid ${child.pid}, after ${(ranMs / 1000).toFixed(1)} s); restart attempt ${this.attempt} in ${delay} ms`;
    this.note(line);
    this.opts.log(`${this.name}: ${line}; see ${this.logFile}`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.start();
      this.opts.log(`${this.name} restarted (pid ${this.child?.pid}, attempt ${this.attempt})`);
    }, delay);
  }

  private scheduleProbe(probe: LivenessProbe): void {
    this.probeTimer = setTimeout(() => {
      void this.probe(probe).finally(() => {
        if (!this.stopping) this.scheduleProbe(probe);
      });
    }, probe.periodMs);
    this.probeTimer.unref();
  }

  private async probe(probe: LivenessProbe): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const ok = await fetch(probe.url, { signal: AbortSignal.timeout(probe.timeoutMs) }).then(
      (res) => {
        void res.body?.cancel();
        return res.ok;
      },
      () => false,
    );
    if (this.stopping || child !== this.child) return;
    if (ok) {
      this.probeFailures = 0;
      return;
    }
    // A freshly restarted child is still booting: give it the probe window before failures count.
    if (Date.now() - this.startedAt < probe.periodMs * probe.failureThreshold) return;
    this.probeFailures += 1;
    if (this.probeFailures < probe.failureThreshold) return;
    const line = `${probe.url} did not answer ${probe.failureThreshold} probes in a row: killing pid ${child.pid} (SIGKILL) to restart it`;
    this.note(line);
    this.opts.log(`${this.name}: ${line}; see ${this.logFile}`);
    child.kill("SIGKILL");
  }

  /** No more restarts or probes (the child keeps running): the first step of a shutdown, for every child at once. */
  disarm(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.probeTimer);
  }

  /** Stops supervising, then SIGTERM; SIGKILL after `graceMs`. Resolves when the child is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    this.disarm();
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      this.note(`did not stop within ${graceMs} ms of SIGTERM: SIGKILL`);
      child.kill("SIGKILL");
    }, graceMs);
    await exited;
    clearTimeout(timer);
    stopLeftovers(this.spawnId);
    this.note("stopped");
  }
}

/** Last lines of a log file, for an error message that points at the cause. */
export function tailOf(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
