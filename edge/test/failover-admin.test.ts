/**
 * The operator's admin route and the live region map: disabled without ADMIN_TOKEN (404), Bearer auth in
 * constant time (401), problems for bad bodies, and a forced failover that moves DNS, alerts, lands in the
 * audit log and — the point of the region map — makes the edge publish a falkenstein batch's plan to
 * ashburn (`batch.ashburn.plan`) until the operator fails back.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { call, emailBatch, newTenant, query, testEnv } from "./harness";
import { connectNats, ensurePlanStream, watchPlans } from "./nats";

const sandbox = testEnv.TEST_SANDBOX_URL as string;
const id = crypto.randomUUID().slice(0, 8);
const ADMIN_TOKEN = `admin-${crypto.randomUUID()}`;
const zoneId = `zone${id}`;
const token = `cf-token-${id}`;
const RECORD = `nats-${id}.batchsender.test`;

const overrides: Record<string, string> = {
  ADMIN_TOKEN,
  FAILOVER_HEALTH_URL_FALKENSTEIN: `${sandbox}/_sandbox/regions/fsn-${id}/health`,
  FAILOVER_HEALTH_URL_ASHBURN: `${sandbox}/_sandbox/regions/iad-${id}/health`,
  FAILOVER_STATE_NAME: `admin-${id}`,
  FAILOVER_MAP_CACHE_MS: "0",
  ALERT_WEBHOOK: `${sandbox}/_sandbox/alerts/${id}`,
  CLOUDFLARE_API_BASE: `${sandbox}/client/v4`,
  CLOUDFLARE_API_TOKEN: token,
  CLOUDFLARE_ZONE_ID: zoneId,
  FAILOVER_DNS_RECORD_NAME: RECORD,
  FAILOVER_DNS_CONTENT_FALKENSTEIN: "fsn.example.test",
  FAILOVER_DNS_CONTENT_ASHBURN: "iad.example.test",
  FAILOVER_DNS_TTL: "60",
};
const admin = (body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }, envOverrides = overrides) =>
  call(body === undefined ? "GET" : "POST", "/admin/failover", { body, headers, envOverrides });

let nc: NatsConnection;
beforeEach(async () => {
  nc = await connectNats();
  await ensurePlanStream(nc);
});
afterEach(async () => {
  await nc.close();
});

describe("admin failover route", () => {
  it("is a 404 problem while ADMIN_TOKEN is unset, and 401 with a wrong token", async () => {
    const { ADMIN_TOKEN: _unset, ...withoutToken } = overrides;
    const off = await admin({ action: "failover" }, { authorization: `Bearer ${ADMIN_TOKEN}` }, { ...withoutToken, ADMIN_TOKEN: "" });
    expect(off.status).toBe(404);
    expect(off.headers.get("content-type")).toContain("application/problem+json");
    const wrong = await admin({ action: "failover" }, { authorization: `Bearer ${ADMIN_TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("unauthorized");
    const none = await admin({ action: "failover" }, {});
    expect(none.status).toBe(401);
  });

  it("answers problems for bad commands", async () => {
    const bad = await admin({ action: "explode" });
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    const noRegion = await admin({ action: "pin" });
    expect(noRegion.status).toBe(422);
    const badRegion = await admin({ action: "pin", region: "mars" });
    expect(badRegion.status).toBe(422);
    const notJson = await call("POST", "/admin/failover", { body: "{", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, envOverrides: overrides });
    expect(notJson.status).toBe(400);
  });

  it("forced failover moves DNS, alerts, is audited, and routes publishes to the other region until failback", async () => {
    const setup = await fetch(`${sandbox}/_sandbox/cloudflare/zones`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ zoneId, token, records: [{ name: RECORD, type: "CNAME", content: "fsn.example.test", ttl: 60 }] }),
    });
    expect(setup.status).toBe(201);

    const before = await admin();
    expect(before.status).toBe(200);
    expect(before.body.routes).toEqual({ falkenstein: "falkenstein", ashburn: "ashburn" });

    const moved = await admin({ action: "failover" });
    expect(moved.status).toBe(200);
    expect(moved.body.routes).toEqual({ falkenstein: "ashburn", ashburn: "ashburn" });
    expect(moved.body.state.pinned).toBe("ashburn");
    expect(moved.body.dns).toEqual({ attempted: 1, failed: 0 });
    const changes = (await (await fetch(`${sandbox}/_sandbox/cloudflare/changes?zoneId=${zoneId}`)).json()) as { data: { from: string; to: string }[] };
    expect(changes.data.map((c) => `${c.from}→${c.to}`)).toEqual(["fsn.example.test→iad.example.test"]);
    const alerts = (await (await fetch(`${sandbox}/_sandbox/alerts/${id}`)).json()) as { data: { body: { text: string } }[] };
    expect(alerts.data.map((a) => a.body.text.split(" ")[0])).toEqual(["[pinned]"]);
    const [audit] = await query<{ tenant_id: string; action: string; data: { active: string } }>(
      "select tenant_id, action, data from audit_log where target_type = 'region_map' and target_id = $1 order by id",
      [`admin-${id}`],
    );
    expect(audit).toMatchObject({ tenant_id: "00000000-0000-0000-0000-000000000000", action: "failover.failover", data: { active: "ashburn" } });

    // A batch homed in falkenstein now plans in ashburn.
    const t = await newTenant();
    const created = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true }), envOverrides: overrides });
    expect(created.status).toBe(201);
    expect(created.body.region).toBe("falkenstein");
    const plans = watchPlans(nc, created.body.id);
    const sent = await call("POST", `/v1/batches/${created.body.id}/send`, { apiKey: t.apiKey, envOverrides: overrides });
    expect(sent.status).toBe(202);
    expect((await plans.waitFor(1)).map((p) => p.subject)).toEqual(["batch.ashburn.plan"]);
    await plans.stop();

    const back = await admin({ action: "failback" });
    expect(back.status).toBe(200);
    expect(back.body.routes).toEqual({ falkenstein: "falkenstein", ashburn: "ashburn" });
    expect(back.body.state.pinned).toBeNull();
    const second = await call("POST", "/v1/batches", { apiKey: t.apiKey, body: emailBatch({ dryRun: true }), envOverrides: overrides });
    const plans2 = watchPlans(nc, second.body.id);
    await call("POST", `/v1/batches/${second.body.id}/send`, { apiKey: t.apiKey, envOverrides: overrides });
    expect((await plans2.waitFor(1)).map((p) => p.subject)).toEqual(["batch.falkenstein.plan"]);
    await plans2.stop();
  });
});
