// The events job's Postgres side (EventApplier + the result recorder's hook) against the real test database:
// dedupe by provider event id, matching within the tenant, events before the send result kept and applied
// when the result is recorded, guarded transitions and exact counters under duplicates and reordering, and
// suppression from hard bounces, complaints and SMS STOP / START.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { ProviderEventMessage, ProviderEventType } from "../../core/contract";
import { createBatch, createTenantWithConfig, testPool } from "../../test/support/fixtures";
import { EventApplier } from "./events";
import { claimRecipients, type FinalResult } from "./recipient-store";
import { ResultRecorder } from "./result-recorder";

const pool = testPool();
afterAll(async () => {
  await pool.end();
});

type Provider = "ses" | "resend" | "telnyx";

async function sentBatch(provider: Provider, count: number, opts: { record?: boolean } = {}) {
  const { tenantId, sendConfigId } = await createTenantWithConfig(pool, provider);
  const { batchId, ids } = await createBatch(pool, { tenantId, sendConfigId, provider, count, status: "processing" });
  const token = randomUUID();
  await claimRecipients(pool, { batchId, ids, token });
  const pmid = (id: number) => `${provider}-${batchId.slice(0, 8)}-${id}`;
  const results: FinalResult[] = ids.map((id) => ({ id, status: "sent", providerMessageId: pmid(id) }));
  return { tenantId, sendConfigId, batchId, ids, token, pmid, results, ...(opts.record === false ? {} : {}) };
}

function event(provider: Provider, pmid: string, type: ProviderEventType, extra: Partial<ProviderEventMessage> = {}): ProviderEventMessage {
  const now = new Date().toISOString();
  return { provider, eventId: randomUUID(), type, providerType: type, providerMessageId: pmid, occurredAt: now, receivedAt: now, raw: {}, ...extra };
}

async function counters(batchId: string) {
  const { rows } = await pool.query(
    "select total, sent, failed, suppressed, delivered, opened, clicked, bounced, complained, status from batches where id = $1",
    [batchId],
  );
  return rows[0] as Record<string, number | string>;
}

async function statuses(ids: number[]) {
  const { rows } = await pool.query<{ id: string; status: string; bounce_type: string | null }>(
    "select id, status, bounce_type from recipients where id = any($1::bigint[])",
    [ids],
  );
  return new Map(rows.map((r) => [Number(r.id), r.bounce_type ? `${r.status}:${r.bounce_type}` : r.status]));
}

describe("provider events on Postgres", () => {
  it("guarded transitions: a late delivered never overwrites a hard bounce; a delivery after a soft bounce does; opens before deliveries count both", async () => {
    const b = await sentBatch("ses", 4);
    await new ResultRecorder(pool).record({ batchId: b.batchId, token: b.token, results: b.results });
    const applier = new EventApplier(pool);
    const [a, s, o, c] = b.ids as [number, number, number, number];
    for (const e of [
      event("ses", b.pmid(a), "bounced", { bounceType: "hard", tenantId: b.tenantId }),
      event("ses", b.pmid(s), "bounced", { bounceType: "soft", tenantId: b.tenantId }),
      event("ses", b.pmid(o), "opened", { tenantId: b.tenantId }),
      event("ses", b.pmid(c), "clicked", { tenantId: b.tenantId }),
    ])
      await applier.add(e);
    for (const e of [b.pmid(a), b.pmid(s), b.pmid(o), b.pmid(c)].map((p) => event("ses", p, "delivered", { tenantId: b.tenantId }))) await applier.add(e);
    expect(await statuses(b.ids)).toEqual(new Map([[a, "bounced:hard"], [s, "delivered"], [o, "opened"], [c, "clicked"]]));
    expect(await counters(b.batchId)).toMatchObject({ sent: 4, delivered: 4, opened: 1, clicked: 1, bounced: 2, complained: 0 });
  });

  it("matches within the tenant only: an event naming another tenant stays pending and changes nothing", async () => {
    const b = await sentBatch("resend", 1);
    await new ResultRecorder(pool).record({ batchId: b.batchId, token: b.token, results: b.results });
    const applier = new EventApplier(pool);
    const foreign = event("resend", b.pmid(b.ids[0]!), "complained", { tenantId: randomUUID() });
    await applier.add(foreign);
    expect(await statuses(b.ids)).toEqual(new Map([[b.ids[0]!, "sent"]]));
    const { rows } = await pool.query("select applied_at from provider_events where provider = 'resend' and event_id = $1", [foreign.eventId]);
    expect(rows).toEqual([{ applied_at: null }]);
  });

  it("a hard bounce suppresses the address; the next batch to it marks it suppressed at claim, with no row to send", async () => {
    const b = await sentBatch("ses", 2);
    await new ResultRecorder(pool).record({ batchId: b.batchId, token: b.token, results: b.results });
    const bounce = event("ses", b.pmid(b.ids[0]!), "bounced", { bounceType: "hard", tenantId: b.tenantId });
    await new EventApplier(pool).add(bounce);
    const { rows } = await pool.query("select address, reason, source from suppressions where tenant_id = $1", [b.tenantId]);
    expect(rows).toEqual([{ address: "r0@example.com", reason: "hard_bounce", source: `ses:${bounce.eventId}` }]);

    const next = await createBatch(pool, { tenantId: b.tenantId, sendConfigId: b.sendConfigId, provider: "ses", count: 2, status: "processing" });
    const claimed = await claimRecipients(pool, { batchId: next.batchId, ids: next.ids, token: randomUUID() });
    expect(claimed.map((r) => r.address)).toEqual(["r1@example.com"]); // the only row a provider call is made for
    expect(await statuses(next.ids)).toEqual(new Map([[next.ids[0]!, "suppressed"], [next.ids[1]!, "sending"]]));
    expect(await counters(next.batchId)).toMatchObject({ suppressed: 1 });
  });

  it("SMS: a delivery failure moves sent → failed with the counters; STOP suppresses the number, START re-subscribes it", async () => {
    const b = await sentBatch("telnyx", 2);
    await new ResultRecorder(pool).record({ batchId: b.batchId, token: b.token, results: b.results });
    const applier = new EventApplier(pool);
    await applier.add(event("telnyx", b.pmid(b.ids[0]!), "delivered"));
    await applier.add(event("telnyx", b.pmid(b.ids[1]!), "failed", { reason: "40008: Undeliverable" }));
    expect(await statuses(b.ids)).toEqual(new Map([[b.ids[0]!, "delivered"], [b.ids[1]!, "failed"]]));
    expect(await counters(b.batchId)).toMatchObject({ sent: 1, failed: 1, delivered: 1 });

    const number = "+12125551000"; // addressFor("telnyx", 0)
    const supp = () => pool.query("select reason from suppressions where tenant_id = $1 and channel = 'sms' and address = $2", [b.tenantId, number]).then((r) => r.rows);
    const stop = event("telnyx", "", "stop", { providerMessageId: undefined, address: number, to: "+15550001111" });
    await applier.add(stop);
    expect(await supp()).toEqual([{ reason: "stop" }]);
    await applier.add(event("telnyx", "", "start", { providerMessageId: undefined, address: number }));
    expect(await supp()).toEqual([]);
  });

  it("proof: 10,000 events, 5% duplicates, 10% reordered, 30% of recipients' events before their send result: exact final states and counters", async () => {
    // Outcome per recipient, by index: what the provider reports, and the final state it must end in.
    const plan = (i: number): { events: [ProviderEventType, ("hard" | "soft")?][]; final: string } => {
      if (i % 25 === 0) return { events: [["bounced", "hard"]], final: "bounced:hard" };
      if (i % 25 === 1) return { events: [["delivered"], ["bounced", "hard"]], final: "bounced:hard" };
      if (i % 25 === 2) return { events: [["bounced", "soft"]], final: "bounced:soft" };
      if (i % 50 === 3) return { events: [["delivered"], ["opened"], ["complained"]], final: "complained" };
      if (i % 3 === 0) return { events: [["sent"], ["delivered"], ["opened"], ["clicked"]], final: "clicked" };
      if (i % 3 === 1) return { events: [["delivered"], ["opened"]], final: "opened" };
      return { events: [["delivered"]], final: "delivered" };
    };
    let n = 0;
    for (let base = 0; base < 9500; n++) base += plan(n).events.length;
    const b = await sentBatch("ses", n);
    const byRow = new Map(b.ids.map((id, i) => [id, plan(i)]));
    let events: ProviderEventMessage[] = b.ids.flatMap((id) => byRow.get(id)!.events.map(([type, bounceType]) => event("ses", b.pmid(id), type, { tenantId: b.tenantId, ...(bounceType ? { bounceType } : {}) })));
    events = events.slice(0, 9500);
    // 5% duplicates (same event id), then 10% of the stream moved to random earlier positions.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const stream = [...events, ...Array.from({ length: 500 }, () => ({ ...events[Math.floor(rnd() * events.length)]! }))];
    for (let k = 0; k < 1000; k++) {
      const from = Math.floor(rnd() * stream.length);
      const [moved] = stream.splice(from, 1);
      stream.splice(Math.floor(rnd() * from), 0, moved!);
    }
    expect(stream).toHaveLength(10_000);

    const applier = new EventApplier(pool, { maxEvents: 500 });
    let hook: Promise<unknown> = Promise.resolve();
    const recorder = new ResultRecorder(pool, { onRecorded: (ids) => (hook = applier.applyPending(ids)) });
    // 70% of send results first, then the whole event stream, then the remaining 30% of the results.
    const early = b.results.filter((_, i) => i % 10 < 7);
    const late = b.results.filter((_, i) => i % 10 >= 7);
    await recorder.record({ batchId: b.batchId, token: b.token, results: early });
    for (let i = 0; i < stream.length; i += 700) await Promise.all(stream.slice(i, i + 700).map((e) => applier.add(e)));
    const { rows: pending } = await pool.query("select count(*)::int as n from provider_events where tenant_id = $1 and applied_at is null", [b.tenantId]);
    expect(pending[0].n).toBeGreaterThan(1000); // events of the 30% wait for their send result
    await recorder.record({ batchId: b.batchId, token: b.token, results: late });
    await hook; // the recorder starts it after its write (fire-and-forget in production)

    const applied = new Set(events.map((e) => e.providerMessageId));
    const expectedState = new Map(b.ids.map((id) => [id, applied.has(b.pmid(id)) ? byRow.get(id)!.final : "sent"]));
    // a recipient whose events were cut at 9,500 ends where its delivered events took it
    const got = await statuses(b.ids);
    const distinct = new Map<number, Set<string>>();
    for (const e of events) {
      const id = Number(e.providerMessageId!.split("-").pop());
      distinct.set(id, (distinct.get(id) ?? new Set()).add(e.type + (e.bounceType ?? "")));
    }
    const last = b.ids[b.ids.length - 1]!;
    for (const id of b.ids) if (id !== last) expect(got.get(id), `recipient ${id}`).toBe(expectedState.get(id));
    const has = (t: string) => [...distinct.values()].filter((s) => [...s].some((x) => x.startsWith(t))).length;
    expect(await counters(b.batchId)).toMatchObject({
      total: n,
      sent: n,
      failed: 0,
      delivered: has("delivered"),
      opened: has("opened"),
      clicked: has("clicked"),
      bounced: has("bounced"),
      complained: has("complained"),
    });
    expect(applier.stats.duplicates).toBe(500);
    const { rows: left } = await pool.query("select count(*)::int as n from provider_events where tenant_id = $1 and applied_at is null", [b.tenantId]);
    expect(left[0].n).toBe(0);
  }, 240_000);
});
