// Issue 6, scenario 1: a hostile template must not stall the senders. A nested 100,000 × 100,000 Liquid loop
// in `html`, one recipient, sent with a test key (dry run) through the running stack: the recipient fails with
// "render limit exceeded" within seconds of being claimed (a permanent failure, never a redelivery), a batch
// sent at the same time keeps sending and completes, and no consumer froze or restarted (/health answers
// throughout, same process start time before and after).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTenant } from "./support/fixtures";
import { apiClient, dbPool, stackInfo, waitFor } from "./support/stack";

const pool = dbPool();
afterAll(() => pool.end());

const HOSTILE = "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}";

async function processStart(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) });
  const text = await res.text();
  const m = /^process_start_time_seconds\s+(\S+)/m.exec(text);
  if (!m) throw new Error("no process_start_time_seconds in /metrics");
  return Number(m[1]);
}

describe("hostile template (scenario 1)", () => {
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    const tenant = await newTenant(pool, "hostile", { mode: "test" });
    api = apiClient(tenant.apiKey);
  });

  it("fails the recipient with 'render limit exceeded', other batches keep sending, no consumer stalls", async () => {
    const consumers = Object.values(stackInfo().consumerUrls);
    const startsBefore = await Promise.all(consumers.map(processStart));

    const message = { from: "Hostile <h@demo.batchsender.dev>", subject: "Hi", html: HOSTILE };
    let hostile = await api("POST", "/v1/batches", { name: "Hostile", message, recipients: [{ to: "victim@example.com" }] });
    if (hostile.status === 422) {
      // The edge refuses it at creation (a trial render there): the consumer must still hold if such a row
      // exists (created before the check, or written by another path), so put the template in place in Postgres.
      hostile = await api("POST", "/v1/batches", { name: "Hostile", message: { ...message, html: "ok" }, recipients: [{ to: "victim@example.com" }] });
      expect(hostile.status, JSON.stringify(hostile.body)).toBe(201);
      await pool.query("update batches set payload = jsonb_set(payload, '{html}', to_jsonb($2::text)) where id = $1", [hostile.body.id, HOSTILE]);
    }
    expect(hostile.status, JSON.stringify(hostile.body)).toBe(201);
    const hostileId = hostile.body.id as string;
    expect((await pool.query("select payload->>'html' as html, dry_run from batches where id = $1", [hostileId])).rows[0]).toEqual({
      html: HOSTILE,
      dry_run: true,
    });

    const normal = await api("POST", "/v1/batches", {
      name: "Neighbour",
      message: { from: "N <n@demo.batchsender.dev>", subject: "Hello {{ name }}", text: "Hi {{ name }}" },
      recipients: Array.from({ length: 200 }, (_, i) => ({ to: `n${i}@example.com`, variables: { name: `N${i}` } })),
    });
    expect(normal.status, JSON.stringify(normal.body)).toBe(201);
    const normalId = normal.body.id as string;

    // Probe every consumer's /health every 100 ms while both batches run; a frozen event loop times out.
    let probing = true;
    const healthFailures: string[] = [];
    let probes = 0;
    const prober = (async () => {
      while (probing) {
        await Promise.all(
          consumers.map(async (url) => {
            try {
              const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_500) });
              if (res.status !== 200) healthFailures.push(`${url} answered ${res.status}`);
            } catch (err) {
              healthFailures.push(`${url}: ${(err as Error).message}`);
            }
          }),
        );
        probes++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    try {
      const sentAt = Date.now();
      expect((await api("POST", `/v1/batches/${hostileId}/send`)).status).toBe(202);
      expect((await api("POST", `/v1/batches/${normalId}/send`)).status).toBe(202);

      const victim = await waitFor(
        "hostile recipient failed",
        async () => {
          const { rows } = await pool.query<{ status: string; error: string | null; attempts: number }>(
            `select status, last_error as error, attempts from recipients where batch_id = $1`,
            [hostileId],
          );
          return rows[0]?.status === "failed" ? rows[0] : undefined;
        },
        30_000,
        100,
      );
      // Planning + claim + one 100 ms render budget: seconds, not the minutes a frozen consumer takes.
      expect(Date.now() - sentAt).toBeLessThan(10_000);
      expect(victim.error).toMatch(/render limit exceeded/);
      expect(victim.attempts).toBeLessThanOrEqual(1);

      const done = await waitFor(
        "neighbour batch completed",
        async () => {
          const r = await api("GET", `/v1/batches/${normalId}`);
          return r.body.status === "completed" ? r.body : undefined;
        },
        30_000,
      );
      expect(done.counts).toMatchObject({ total: 200, sent: 200, failed: 0 });

      const h = await waitFor("hostile batch completed", async () => {
        const r = await api("GET", `/v1/batches/${hostileId}`);
        return r.body.status === "completed" ? r.body : undefined;
      });
      expect(h.counts).toMatchObject({ total: 1, sent: 0, failed: 1 });
    } finally {
      probing = false;
      await prober;
    }
    expect(probes).toBeGreaterThan(0);
    expect(healthFailures).toEqual([]);
    expect(await Promise.all(consumers.map(processStart))).toEqual(startsBefore);
  });
});
