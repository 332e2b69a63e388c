import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import { bucketsForSend, DEFAULT_MANAGED_LIMITS as L, parseManagedLimits, type SendInput } from "./limits";
import { validateSpecs } from "./redis-token-buckets";

const base: SendInput = { provider: "ses", mode: "managed", region: "falkenstein", tenantId: "t1", sendConfigId: "c1", recipients: 1 };

describe("bucketsForSend", () => {
  it("managed SES: this region's half of 14/s for requests and recipients, plus the tenant bucket", () => {
    expect(bucketsForSend(base, L)).toEqual([
      { key: "bucket:managed:ses:falkenstein:requests", ratePerSecond: 7, capacity: 1, cost: 1 },
      { key: "bucket:managed:ses:falkenstein:recipients", ratePerSecond: 7, capacity: 1, cost: 1 },
      { key: "bucket:tenant:t1:falkenstein:messages", ratePerSecond: 100, capacity: 100, cost: 1 },
    ]);
  });

  it("managed Resend batch of 100: 1 request, 100 messages for the tenant, no recipients bucket by default", () => {
    const specs = bucketsForSend({ ...base, provider: "resend", region: "ashburn", recipients: 100 }, L);
    expect(specs).toEqual([
      { key: "bucket:managed:resend:ashburn:requests", ratePerSecond: 1, capacity: 1, cost: 1 },
      { key: "bucket:tenant:t1:ashburn:messages", ratePerSecond: 100, capacity: 100, cost: 100 },
    ]);
  });

  it("charges a Resend recipients bucket per recipient when one is configured", () => {
    const limits = parseManagedLimits({ MANAGED_RESEND_RECIPIENTS_RPS: "50" });
    const specs = bucketsForSend({ ...base, provider: "resend", recipients: 100 }, limits);
    expect(specs.find((s) => s.key.endsWith(":recipients"))).toEqual({
      key: "bucket:managed:resend:falkenstein:recipients",
      ratePerSecond: 25,
      capacity: 100, // a call of 100 waits until 100 have accumulated instead of never fitting
      cost: 100,
    });
  });

  it("BYOK takes the config's own bucket at its rate (region share applied) and no managed capacity", () => {
    const specs = bucketsForSend({ ...base, mode: "byok", byokRatePerSecond: 10, recipients: 1 }, L);
    expect(specs.map((s) => s.key)).toEqual(["bucket:byok:c1:falkenstein:recipients", "bucket:tenant:t1:falkenstein:messages"]);
    expect(specs[0]).toMatchObject({ ratePerSecond: 5, cost: 1 });
    expect(specs.some((s) => s.key.includes("managed"))).toBe(false);
  });

  it("BYOK without a rate assumes the provider's default account rate; Resend counts requests", () => {
    const [cfg] = bucketsForSend({ ...base, provider: "resend", mode: "byok", byokRatePerSecond: null, recipients: 100 }, L);
    expect(cfg).toEqual({ key: "bucket:byok:c1:falkenstein:requests", ratePerSecond: 1, capacity: 1, cost: 1 });
  });

  it("webhook sends take the endpoint's config bucket, never a managed account", () => {
    const specs = bucketsForSend({ ...base, provider: "webhook", mode: "managed", recipients: 1 }, L);
    expect(specs[0]).toEqual({ key: "bucket:webhook:c1:falkenstein:requests", ratePerSecond: 5, capacity: 1, cost: 1 });
  });

  it("Telnyx managed: the account API rate, one request per message", () => {
    const [acct] = bucketsForSend({ ...base, provider: "telnyx" }, L);
    // Burst: 5% of a second's tokens (50/s → 2), so no one-second window exceeds 105% of the rate.
    expect(acct).toEqual({ key: "bucket:managed:telnyx:falkenstein:requests", ratePerSecond: 50, capacity: 2, cost: 1 });
  });

  it("caps every provider bucket's burst at 5% of its rate per second (or one call's cost)", () => {
    const fast = parseManagedLimits({ MANAGED_SES_RPS: "200" });
    const [req] = bucketsForSend({ ...base, provider: "ses" }, fast);
    expect(req).toMatchObject({ ratePerSecond: 100, capacity: 5, cost: 1 });
    const [resend] = bucketsForSend({ ...base, provider: "resend", recipients: 100 }, L);
    expect(resend!.capacity).toBe(1);
  });

  it("produces specs the bucket store accepts (cost never above capacity) for every provider and size", () => {
    for (const provider of ["ses", "resend", "telnyx", "webhook"] as const)
      for (const mode of ["managed", "byok"] as const)
        for (const recipients of [1, 7, 100]) expect(() => validateSpecs(bucketsForSend({ ...base, provider, mode, recipients }, L))).not.toThrow();
  });

  it("refuses a region with no share and a non-positive recipient count", () => {
    const allFalkenstein = parseManagedLimits({ MANAGED_SHARE_FALKENSTEIN: "1" });
    expect(() => bucketsForSend({ ...base, region: "ashburn" }, allFalkenstein)).toThrow(/no capacity/);
    expect(() => bucketsForSend({ ...base, recipients: 0 }, L)).toThrow(/positive integer/);
  });
});

describe("parseManagedLimits", () => {
  it("gives the documented defaults for an empty env (and treats empty strings as unset)", () => {
    expect(parseManagedLimits({})).toEqual(L);
    expect(parseManagedLimits({ MANAGED_SES_RPS: "", TENANT_SEND_RPS: "" })).toEqual(L);
  });

  it("applies overrides; the SES recipient rate follows the SES rate unless set", () => {
    const l = parseManagedLimits({ MANAGED_SES_RPS: "1", MANAGED_TELNYX_RPS: "20", MANAGED_SHARE_FALKENSTEIN: "0.75", TENANT_SEND_RPS: "5" });
    expect(l.ses).toEqual({ requestsPerSecond: 1, recipientsPerSecond: 1, regionShare: { falkenstein: 0.75, ashburn: 0.25 } });
    expect(l.telnyx.requestsPerSecond).toBe(20);
    expect(l.tenantPerSecond).toBe(5);
    expect(l.configRegionShare).toEqual({ falkenstein: 0.75, ashburn: 0.25 });
  });

  it("rejects invalid values with a ConfigError naming the variable", () => {
    expect(() => parseManagedLimits({ MANAGED_SHARE_FALKENSTEIN: "1.5" })).toThrow(ConfigError);
    expect(() => parseManagedLimits({ MANAGED_SES_RPS: "-3" })).toThrow(/MANAGED_SES_RPS/);
    expect(() => parseManagedLimits({ TENANT_SEND_RPS: "lots" })).toThrow(/TENANT_SEND_RPS/);
  });
});
