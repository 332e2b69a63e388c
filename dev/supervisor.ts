/**
 * What a process manager (or Kubernetes) does for the local stack's children: start a child with its output
 * appended to its log file, restart it when it dies with exponential backoff (capped, and reset once it has
 * run healthily for a while), optionally kill and restart it when its liveness URL stops answering, and log
 * every restart — with exit code or signal and attempt number — both to the stack's stderr and into the
 * child's log file. `stop()` disables restarts first, so a Ctrl-C never races a restart.
 *
 * Hand-written rather than pm2 & co.: those are daemons with their own state directory and CLI; the stack needs
 * ~150 lines it owns, running in its own process group so Ctrl-C stops everything.
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
 * Every supervised child still alive, per stack process. The children run in their own process groups, so a
 * terminal's Ctrl-C does not reach them: if the stack process exits without stop() (a crash), it takes them
 * along synchronously here instead of leaving orphans.
 */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL");
});

export class SupervisedProcess {
  readonly name: string;
  readonly logFile: string;
  private child?: ChildProcess;
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
    // The child writes straight into its log file (not through a pipe to us): its output is never lost or
    // blocked by the stack's own event loop, and appends of several children to one file stay line-atomic.
    const fd = fs.openSync(this.logFile, "a");
    let child: ChildProcess;
    try {
      // Its own process group: `wrangler dev` runs workerd under a second node process, and when the process
      // we started dies (kill -9) those descendants must go with it, or they keep its port and the restart fails.
      child = spawn(command, args, { cwd, env, stdio: ["ignore", fd, fd], detached: true });
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
    // Whatever the child left behind in its process group (see start()) goes with it.
    killGroup(child, "SIGKILL");
    live.delete(child);
    if (child !== this.child) return;
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

  /** Stops supervising, then SIGTERM; SIGKILL after `graceMs`. Resolves when the child is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.probeTimer);
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // The whole group, as Ctrl-C in a terminal would: wrangler's node and workerd stop with it.
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => {
      this.note(`did not stop within ${graceMs} ms of SIGTERM: SIGKILL`);
      killGroup(child, "SIGKILL");
    }, graceMs);
    await exited;
    clearTimeout(timer);
    this.note("stopped");
  }
}

/** Signals the child's process group (it is its leader); falls back to the child alone. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // group already gone (ESRCH)
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
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
