/**
 * CPU time of every process a send touches, read from `/proc/<pid>/stat` (utime + stime, in clock ticks) before
 * and after a timed run, so a bench row can say what the whole box spent per send and not only the consumer.
 *
 * Postgres is shared with other databases on the machine, so only the backends serving the bench's database
 * are counted (their pids from `pg_stat_activity`): a backend that exists only after the run counts in full,
 * one that ended during the run is missed (the consumers' pools keep theirs open, so none should). Postgres's
 * background processes (WAL writer, checkpointer) are not attributable to one database and are left out.
 */
import fs from "node:fs";
import type pg from "pg";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU milliseconds a process has used so far (0 once it is gone). */
export function cpuMs(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

export function peakRssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** A named set of processes whose CPU is summed; `pids` is asked again at each sample (backends come and go). */
export interface ProcGroup {
  name: string;
  pids: () => Promise<number[]> | number[];
}

export function pgBackends(pool: pg.Pool, database: string): ProcGroup {
  return {
    name: "postgres",
    pids: async () => (await pool.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1", [database])).rows.map((r) => r.pid),
  };
}

type Sample = Map<string, Map<number, number>>;

async function sample(groups: ProcGroup[]): Promise<Sample> {
  const out: Sample = new Map();
  for (const g of groups) out.set(g.name, new Map((await g.pids()).map((pid) => [pid, cpuMs(pid)])));
  return out;
}

/** Starts a measurement; the returned function ends it and answers CPU ms per group over the interval. */
export async function measureCpu(groups: ProcGroup[]): Promise<() => Promise<Map<string, number>>> {
  const before = await sample(groups);
  return async () => {
    const after = await sample(groups);
    const used = new Map<string, number>();
    for (const g of groups) {
      let ms = 0;
      const b = before.get(g.name)!;
      for (const [pid, now] of after.get(g.name)!) ms += now - (b.get(pid) ?? 0);
      used.set(g.name, ms);
    }
    return used;
  };
}
