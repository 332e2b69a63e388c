/**
 * Streamed recipient uploads against a running edge (wrangler dev), shared by the 1,000,000-row integration
 * test and `npm run bench:upload`: a CSV generated as it is sent (the client never holds the file), the
 * upload itself, and the resident memory of the edge's workerd processes sampled while it runs.
 */
import fs from "node:fs";

export const UPLOAD_HEADER = "to,name,plan\n";

export function uploadRow(i: number): string {
  return `user${i}@example.com,User ${i},${i % 3 ? "free" : "pro"}\n`;
}

/** The CSV of `rows` recipients as a byte stream of ~64 KiB chunks, produced on demand. */
export function csvStream(rows: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= rows) return controller.close();
      let text = i === 0 ? UPLOAD_HEADER : "";
      while (i < rows && text.length < 64 * 1024) text += uploadRow(i++);
      controller.enqueue(encoder.encode(text));
    },
  });
}

export interface UploadResult {
  status: number;
  body: Record<string, unknown>;
  seconds: number;
}

export async function uploadCsv(apiUrl: string, apiKey: string, batchId: string, rows: number): Promise<UploadResult> {
  const t0 = performance.now();
  const res = await fetch(`${apiUrl}/v1/batches/${batchId}/recipients`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/csv" },
    body: csvStream(rows),
    duplex: "half",
  } as RequestInit & { duplex: "half" });
  const text = await res.text();
  const seconds = (performance.now() - t0) / 1000;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body, seconds };
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/**
 * The workerd processes of the `wrangler dev` serving `apiUrl`: the wrangler process is found by its
 * `--port`, its workerd descendants by walking parent links (wrangler runs the Worker and its own dev proxy
 * in workerd).
 */
export function edgeWorkerdPids(apiUrl: string): number[] {
  const port = new URL(apiUrl).port;
  const pids = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  const wrangler = pids.find((p) => {
    const args = cmdline(p);
    const at = args.indexOf("--port");
    return args.some((a) => a.endsWith("wrangler.js")) && args.includes("dev") && at >= 0 && args[at + 1] === port;
  });
  if (!wrangler) throw new Error(`no wrangler dev process serves port ${port}`);
  const descends = (p: number): boolean => {
    for (let q = parentOf(p), hops = 0; q && q > 1 && hops < 10; q = parentOf(q), hops++) if (q === wrangler) return true;
    return false;
  };
  const workerd = pids.filter((p) => cmdline(p)[0]?.endsWith("workerd") && descends(p));
  if (!workerd.length) throw new Error(`wrangler dev (pid ${wrangler}) has no workerd process`);
  return workerd;
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Samples each process's resident set every `everyMs`; `stop()` gives the baseline and the peak per pid. */
export function sampleRss(pids: number[], everyMs = 50) {
  const baseline = new Map(pids.map((p) => [p, rssMb(p)]));
  const peak = new Map(baseline);
  const timer = setInterval(() => {
    for (const p of pids) {
      try {
        peak.set(p, Math.max(peak.get(p)!, rssMb(p)));
      } catch {
        // the process ended (a supervised restart): the test's own assertions will say so
      }
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return pids.map((pid) => ({ pid, baselineMb: baseline.get(pid)!, peakMb: peak.get(pid)! }));
    },
  };
}
