/**
 * Issue 10's failover proof: a simulated timeline through the REAL `scheduled` handler inside workerd,
 * against the sandbox's Cloudflare DNS API, its two fake region health endpoints and its alert sink. Each
 * call is one cron minute (`scheduledTime` steps by 60 s); within it the handler takes 4 probe samples.
 * N = 3 failures to fail over, M = 8 successes to fail back. After every minute the test collects the DNS
 * PATCHes and alerts the sandbox recorded, and at the end compares the whole history exactly.
 *
 * Isolation: this test's zone, token, region names, alert channel and FailoverState instance are its own,
 * passed as binding overrides; re-homing is pushed out of reach (a day) because it would touch other tests'
 * batches — test/failover-rehome.test.ts proves it.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../worker";
import { testEnv } from "./harness";

const sandbox = testEnv.TEST_SANDBOX_URL as string;
const id = crypto.randomUUID().slice(0, 8);
const zoneId = `zone${id}`;
const token = `cf-token-${id}`;
const RECORD = `nats-${id}.batchsender.test`;
const FSN = `fsn.nats-${id}.batchsender.test`;
const IAD = `iad.nats-${id}.batchsender.test`;
const regionName = { falkenstein: `fsn-${id}`, ashburn: `iad-${id}` } as const;
const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);

const overrides: Record<string, string> = {
  FAILOVER_PRIMARY: "falkenstein",
  FAILOVER_HEALTH_URL_FALKENSTEIN: `${sandbox}/_sandbox/regions/${regionName.falkenstein}/health`,
  FAILOVER_HEALTH_URL_ASHBURN: `${sandbox}/_sandbox/regions/${regionName.ashburn}/health`,
  FAILOVER_FAIL_AFTER: "3",
  FAILOVER_RECOVER_AFTER: "8",
  FAILOVER_PROBES_PER_RUN: "4",
  FAILOVER_PROBE_SPACING_MS: "0",
  FAILOVER_PROBE_TIMEOUT_MS: "400",
  FAILOVER_REHOME_AFTER_SECONDS: "86400",
  FAILOVER_STATE_NAME: `timeline-${id}`,
  FAILOVER_MAP_CACHE_MS: "0",
  ALERT_WEBHOOK: `${sandbox}/_sandbox/alerts/${id}`,
  CLOUDFLARE_API_BASE: `${sandbox}/client/v4`,
  CLOUDFLARE_API_TOKEN: token,
  CLOUDFLARE_ZONE_ID: zoneId,
  FAILOVER_DNS_RECORD_NAME: RECORD,
  FAILOVER_DNS_RECORD_TYPE: "CNAME",
  FAILOVER_DNS_CONTENT_FALKENSTEIN: FSN,
  FAILOVER_DNS_CONTENT_ASHBURN: IAD,
  FAILOVER_DNS_PROXIED: "false",
  FAILOVER_DNS_TTL: "60",
};

async function post(path: string, body: unknown): Promise<Response> {
  const res = await fetch(`${sandbox}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return res;
}

type Mode = "healthy" | "unhealthy" | "timeout" | "flapping";
async function regions(fsn: Mode, iad: Mode): Promise<void> {
  await post(`/_sandbox/regions/${regionName.falkenstein}`, { mode: fsn });
  await post(`/_sandbox/regions/${regionName.ashburn}`, { mode: iad });
}

interface Seen {
  changes: string[];
  alerts: string[];
}
const seen: Seen = { changes: [], alerts: [] };
let changesRead = 0;
let alertsRead = 0;

/** Runs cron minute `m` through the Worker's own `scheduled` and tags what the sandbox saw with `m`. */
async function minute(m: number): Promise<void> {
  const controller = createScheduledController({ scheduledTime: T0 + m * 60_000, cron: "* * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled!(controller, { ...testEnv, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);

  const changes = (await (await fetch(`${sandbox}/_sandbox/cloudflare/changes?zoneId=${zoneId}`)).json()) as { data: { from: string; to: string; ttl: number; proxied: boolean }[] };
  for (const c of changes.data.slice(changesRead)) {
    expect([c.ttl, c.proxied]).toEqual([60, false]);
    seen.changes.push(`m${m} ${c.from === FSN ? "fsn" : c.from === IAD ? "iad" : c.from}→${c.to === FSN ? "fsn" : c.to === IAD ? "iad" : c.to}`);
  }
  changesRead = changes.data.length;
  const alerts = (await (await fetch(`${sandbox}/_sandbox/alerts/${id}`)).json()) as { data: { body: { text: string; content: string } }[] };
  for (const a of alerts.data.slice(alertsRead)) {
    expect(a.body.content).toBe(a.body.text);
    const kind = /^\[([a-z-]+)\]/.exec(a.body.text)?.[1] ?? "?";
    // The logical time in the alert is the cron's scheduledTime plus the run's own duration: minute m.
    const at = Date.parse(/^\[[a-z-]+\] (\S+Z):/.exec(a.body.text)?.[1] ?? "");
    expect(Math.floor((at - T0) / 60_000), a.body.text).toBe(m);
    const dns = /DNS .* verified/.test(a.body.text) ? " dns-ok" : /DNS .* NOT changed/.test(a.body.text) ? " dns-NOT-changed" : "";
    seen.alerts.push(`m${m} ${kind}${dns}`);
  }
  alertsRead = alerts.data.length;
}

async function routes(): Promise<unknown> {
  const ns = testEnv.FAILOVER_STATE;
  return ns.get(ns.idFromName(overrides.FAILOVER_STATE_NAME!)).routes({ primary: "falkenstein", failAfter: 3, recoverAfter: 8 });
}

describe("failover timeline through the real scheduled handler", () => {
  it("fails over, fails back, ignores flapping, alerts both-down once, recovers, retries a failed DNS change", async () => {
    await post("/_sandbox/cloudflare/zones", {
      zoneId,
      token,
      records: [
        { name: RECORD, type: "CNAME", content: FSN, proxied: false, ttl: 60 },
        // Same content, other name: must never be touched (the record is found by name and type).
        { name: `api-${id}.batchsender.test`, type: "CNAME", content: FSN, proxied: true, ttl: 1 },
        { name: RECORD, type: "TXT", content: "owner=ops", proxied: false, ttl: 300 },
      ],
    });

    // m0: both healthy; the first run only verifies the record (it already points at falkenstein).
    await regions("healthy", "healthy");
    await minute(0);
    expect(await routes()).toEqual({ falkenstein: "falkenstein", ashburn: "ashburn" });

    // Primary down for 3 minutes (503, then timeouts), then healthy again.
    await regions("unhealthy", "healthy");
    await minute(1);
    expect(await routes()).toEqual({ falkenstein: "ashburn", ashburn: "ashburn" });
    await regions("timeout", "healthy");
    await minute(2);
    await minute(3);
    await regions("healthy", "healthy");
    await minute(4); // 4 healthy probes: not yet M = 8
    expect(await routes()).toEqual({ falkenstein: "ashburn", ashburn: "ashburn" });
    await minute(5); // 8th healthy probe → failback
    expect(await routes()).toEqual({ falkenstein: "falkenstein", ashburn: "ashburn" });

    // A flapping primary (ok, fail, ok, fail…) never reaches N consecutive failures.
    await regions("flapping", "healthy");
    for (const m of [6, 7, 8]) await minute(m);

    // Down for real → failover; then flapping while failed over never reaches M consecutive successes.
    await regions("unhealthy", "healthy");
    await minute(9);
    await regions("flapping", "healthy");
    await minute(10);
    await minute(11);

    // Both regions down: one alert for the incident, none in the following minutes.
    await regions("unhealthy", "unhealthy");
    for (const m of [12, 13, 14]) await minute(m);

    // Recovery: the primary comes back first → after M healthy probes, failback and the incident closes.
    await regions("healthy", "unhealthy");
    await minute(15);
    await minute(16);
    expect(await routes()).toEqual({ falkenstein: "falkenstein", ashburn: "falkenstein" });
    await regions("healthy", "healthy");
    await minute(17);
    await minute(18); // ashburn UP again after 8 healthy probes (no alert: it was not an incident by itself)
    expect(await routes()).toEqual({ falkenstein: "falkenstein", ashburn: "ashburn" });

    // The DNS change fails once: the failover still happens (the region map moves), the alerts say DNS was
    // NOT changed, and the next minute retries and reports the corrected record.
    await post("/_sandbox/cloudflare/faults", { zoneId, patchFailures: 1 });
    await regions("unhealthy", "healthy");
    await minute(19);
    expect(await routes()).toEqual({ falkenstein: "ashburn", ashburn: "ashburn" });
    await minute(20);

    expect(seen.changes).toEqual(["m1 fsn→iad", "m5 iad→fsn", "m9 fsn→iad", "m16 iad→fsn", "m20 fsn→iad"]);
    expect(seen.alerts).toEqual([
      "m1 failover dns-ok",
      "m5 failback dns-ok",
      "m9 failover dns-ok",
      "m12 both-regions-down",
      "m16 failback dns-ok",
      "m16 recovered",
      "m19 failover dns-NOT-changed",
      "m19 dns-failed",
      "m20 dns-corrected",
    ]);

    // The other records of the zone were never touched.
    const list = (await (await fetch(`${sandbox}/client/v4/zones/${zoneId}/dns_records`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      result: { name: string; type: string; content: string }[];
    };
    expect(list.result.filter((r) => r.name !== RECORD || r.type !== "CNAME").map((r) => r.content).sort()).toEqual([FSN, "owner=ops"]);
  });
});
