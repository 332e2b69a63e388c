/**
 * Region failover in the minute Cron Trigger (DESIGN §9; operator guide: docs/runbooks/failover.md).
 *
 * Each run takes FAILOVER_PROBES_PER_RUN samples, FAILOVER_PROBE_SPACING_MS apart (4 × 14 s by default, so
 * one run spreads over the minute and ends before the next starts). A sample probes both regions' health URLs
 * at once, each with FAILOVER_PROBE_TIMEOUT_MS, and hands the result to the FailoverState Durable Object,
 * which applies the policy (failover-policy.ts) atomically and answers with what changed. This job then does
 * the I/O the change needs — the Cloudflare DNS record, the alert — right after that sample, not at the end
 * of the run. The probing is done here rather than by alarms in the object because the cron already wakes
 * up every minute, and an in-process loop needs no second scheduler to reason about.
 *
 * After the samples, batches of a region DOWN longer than FAILOVER_REHOME_AFTER_SECONDS are re-homed
 * (rehome.ts). Time is the cron's `scheduledTime` plus the time spent in the run, so a test drives a timeline
 * by handing `scheduled` the minutes it wants.
 */
import { REGIONS, type Region } from "../../core/contract";
import { cloudflareDns, type DnsSwitcher, type DnsTarget } from "../adapters/cloudflare-dns";
import { loadConfig, type Bindings, type EdgeConfig } from "../env";
import { regionsToRehome, type AdminAction, type FailoverEvent, type FailoverStateData, type PolicyConfig, type ProbeResult } from "./failover-policy";
import type { FailoverStore } from "./failover-store";

export interface FailoverSettings {
  policy: PolicyConfig;
  healthUrls: Record<Region, string>;
  probesPerRun: number;
  spacingMs: number;
  timeoutMs: number;
  rehomeAfterMs: number;
  stateName: string;
  mapCacheMs: number;
  alertWebhook: string | undefined;
  dns: (Omit<DnsTarget, "content"> & { apiBase: string; zoneId: string; token: string; content: Record<Region, string> }) | undefined;
}

/** The failover's settings, or undefined when it is not configured (no health URLs): then nothing routes. */
export function failoverSettings(c: EdgeConfig): FailoverSettings | undefined {
  if (!c.FAILOVER_HEALTH_URL_FALKENSTEIN || !c.FAILOVER_HEALTH_URL_ASHBURN) return undefined;
  return {
    policy: { primary: c.FAILOVER_PRIMARY, failAfter: c.FAILOVER_FAIL_AFTER, recoverAfter: c.FAILOVER_RECOVER_AFTER },
    healthUrls: { falkenstein: c.FAILOVER_HEALTH_URL_FALKENSTEIN, ashburn: c.FAILOVER_HEALTH_URL_ASHBURN },
    probesPerRun: c.FAILOVER_PROBES_PER_RUN,
    spacingMs: c.FAILOVER_PROBE_SPACING_MS,
    timeoutMs: c.FAILOVER_PROBE_TIMEOUT_MS,
    rehomeAfterMs: c.FAILOVER_REHOME_AFTER_SECONDS * 1000,
    stateName: c.FAILOVER_STATE_NAME,
    mapCacheMs: c.FAILOVER_MAP_CACHE_MS,
    alertWebhook: c.ALERT_WEBHOOK,
    // loadConfig already refused a zone id without token, record name and both contents.
    dns: c.CLOUDFLARE_ZONE_ID
      ? {
          apiBase: c.CLOUDFLARE_API_BASE,
          zoneId: c.CLOUDFLARE_ZONE_ID,
          token: c.CLOUDFLARE_API_TOKEN!,
          name: c.FAILOVER_DNS_RECORD_NAME!,
          type: c.FAILOVER_DNS_RECORD_TYPE,
          proxied: c.FAILOVER_DNS_PROXIED,
          ttl: c.FAILOVER_DNS_TTL,
          content: { falkenstein: c.FAILOVER_DNS_CONTENT_FALKENSTEIN!, ashburn: c.FAILOVER_DNS_CONTENT_ASHBURN! },
        }
      : undefined,
  };
}

export interface FailoverDeps {
  settings: FailoverSettings;
  store: FailoverStore;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  probe?: (url: string, timeoutMs: number) => Promise<ProbeResult>;
  dns?: DnsSwitcher;
  alert?: (text: string) => Promise<void>;
  rehome?: (from: Region, to: Region) => Promise<{ moved: number }>;
}

export interface FailoverReport {
  samples: number;
  events: FailoverEvent[];
  dns: { attempted: number; failed: number };
  rehomed: { from: Region; to: Region; moved: number }[];
}

/** A probe is healthy on a 2xx within the timeout; anything else (status, timeout, refused) is a failure. */
export async function httpProbe(url: string, timeoutMs: number): Promise<ProbeResult> {
  try {
    const res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return { ok: res.ok, detail: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error;
    return { ok: false, detail: e.name === "TimeoutError" || e.name === "AbortError" ? `timeout after ${timeoutMs} ms` : e.message.slice(0, 200) };
  }
}

/** Slack reads `text`, Discord reads `content`: one body serves both. Never throws (an alert must not stop a switch). */
export function webhookAlert(url: string | undefined): (text: string) => Promise<void> {
  return async (text) => {
    console.warn(`failover alert: ${text}`);
    if (!url) return;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text, content: text.slice(0, 2000) }),
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      if (!res.ok) console.error(`alert webhook answered HTTP ${res.status}`);
    } catch (err) {
      console.error("alert webhook unreachable", err);
    }
  };
}

export function dnsSwitcherFor(settings: FailoverSettings): DnsSwitcher | undefined {
  const d = settings.dns;
  return d ? cloudflareDns({ apiBase: d.apiBase, zoneId: d.zoneId, token: d.token }) : undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

function describe(e: FailoverEvent): string {
  switch (e.kind) {
    case "both-regions-down":
      return `[both-regions-down] ${iso(e.at)}: ${e.reason}`;
    case "recovered":
      return `[recovered] ${iso(e.at)}: ${e.region} is back: ${e.reason}`;
    default:
      return `[${e.kind}] ${iso(e.at)}: ${e.from} → ${e.to}: ${e.reason}`;
  }
}

const SWITCHES = new Set<FailoverEvent["kind"]>(["failover", "failback", "pinned", "unpinned"]);

/**
 * The I/O that follows one store update: DNS towards the active region (when a switch happened, or the
 * record is not yet verified there and this run has not tried), then one alert per event with the DNS
 * outcome in the switch alert, then `[dns-failed]` (first failure towards a region, or with a switch) or
 * `[dns-corrected]` (a retry or a first sync that had to change the record).
 */
async function follow(deps: FailoverDeps, state: FailoverStateData, events: FailoverEvent[], run: { dnsTried: boolean }, report: FailoverReport): Promise<void> {
  const alert = deps.alert ?? (async () => {});
  const switched = events.some((e) => SWITCHES.has(e.kind));
  let dnsLine = "";
  let dnsAlert: string | undefined;
  const d = deps.settings.dns;
  if (d && deps.dns && (switched || (state.dns.region !== state.active && !run.dnsTried))) {
    run.dnsTried = true;
    report.dns.attempted++;
    const content = d.content[state.active];
    try {
      const r = await deps.dns.pointAt({ name: d.name, type: d.type, content, proxied: d.proxied, ttl: d.ttl });
      await deps.store.recordDns(state.active, true);
      dnsLine = `; DNS ${d.name} → ${content} verified`;
      if (!switched && r.changed) dnsAlert = `[dns-corrected] ${iso(deps.now())}: ${d.name} did not point at the active region ${state.active}; now ${content}, verified.`;
    } catch (err) {
      report.dns.failed++;
      const { alert: first } = await deps.store.recordDns(state.active, false);
      const reason = err instanceof Error ? err.message : String(err);
      dnsLine = `; DNS ${d.name} NOT changed: ${reason}`;
      if (first || switched) dnsAlert = `[dns-failed] ${iso(deps.now())}: could not point ${d.name} at ${content} (${state.active}): ${reason}. The cron retries every minute.`;
    }
  }
  for (const e of events) await alert(describe(e) + (SWITCHES.has(e.kind) ? dnsLine : ""));
  if (dnsAlert) await alert(dnsAlert);
  report.events.push(...events);
}

export async function runFailover(deps: FailoverDeps): Promise<FailoverReport> {
  const { settings, store } = deps;
  const probe = deps.probe ?? httpProbe;
  const report: FailoverReport = { samples: 0, events: [], dns: { attempted: 0, failed: 0 }, rehomed: [] };
  const run = { dnsTried: false };
  for (let i = 0; i < settings.probesPerRun; i++) {
    if (i > 0) await deps.sleep(settings.spacingMs);
    const results = await Promise.all(REGIONS.map((r) => probe(settings.healthUrls[r], settings.timeoutMs)));
    const sample = { at: deps.now(), results: { falkenstein: results[0]!, ashburn: results[1]! } };
    const { state, events } = await store.observe(sample, settings.policy);
    report.samples++;
    await follow(deps, state, events, run, report);
  }
  if (deps.rehome) {
    const state = await store.snapshot(settings.policy);
    for (const { from, to } of regionsToRehome(state, deps.now(), settings.rehomeAfterMs)) {
      const { moved } = await deps.rehome(from, to);
      report.rehomed.push({ from, to, moved });
      if (moved > 0) await (deps.alert ?? (async () => {}))(`[rehomed] ${iso(deps.now())}: ${moved} batches of ${from} (down since ${iso(state.regions[from].downSince!)}) re-planned in ${to}.`);
    }
  }
  return report;
}

/** An operator's command (admin route): applied atomically, then the same DNS switch and alerts as the cron. */
export async function applyCommand(deps: FailoverDeps, cmd: AdminAction, actor: string): Promise<{ state: FailoverStateData; events: FailoverEvent[]; dns: FailoverReport["dns"] }> {
  const report: FailoverReport = { samples: 0, events: [], dns: { attempted: 0, failed: 0 }, rehomed: [] };
  const { state, events } = await deps.store.command(cmd, deps.settings.policy, deps.now(), actor);
  await follow(deps, state, events, { dnsTried: false }, report);
  return { state: await deps.store.snapshot(deps.settings.policy), events, dns: report.dns };
}

/** The production wiring: the FailoverState object named in the config, real probes, DNS, alerts, re-homing. */
export function failoverDepsFromEnv(
  env: Bindings,
  settings: FailoverSettings,
  opts: { startedAt?: number; rehome?: FailoverDeps["rehome"] } = {},
): FailoverDeps {
  const t0 = Date.now();
  const base = opts.startedAt ?? t0;
  const ns = env.FAILOVER_STATE;
  return {
    settings,
    store: ns.get(ns.idFromName(settings.stateName)) as unknown as FailoverStore,
    now: () => base + (Date.now() - t0),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    dns: dnsSwitcherFor(settings),
    alert: webhookAlert(settings.alertWebhook),
    rehome: opts.rehome,
  };
}

export async function runFailoverCron(env: Bindings, scheduledTime: number, rehome: NonNullable<FailoverDeps["rehome"]>): Promise<FailoverReport | undefined> {
  const settings = failoverSettings(loadConfig(env));
  if (!settings) return undefined;
  return runFailover(failoverDepsFromEnv(env, settings, { startedAt: scheduledTime, rehome }));
}
