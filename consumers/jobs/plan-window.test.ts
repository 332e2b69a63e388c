import { describe, expect, it } from "vitest";
import { DEFAULT_MANAGED_LIMITS, parseManagedLimits } from "../ratelimit/limits";
import { DEFAULT_PLAN_WINDOW, parsePlanWindow, recipientsPerSecond, windowRecipients } from "./plan-window";

const managed = (provider: "ses" | "resend" | "telnyx") => ({ provider, mode: "managed" as const, rateLimitPerSecond: null, dryRun: false });

describe("plan window", () => {
  it("follows the batch's buckets: the managed account share, capped by the tenant bucket", () => {
    const limits = parseManagedLimits({ MANAGED_SES_RPS: "200", MANAGED_SHARE_FALKENSTEIN: "1", TENANT_SEND_RPS: "1000" });
    expect(recipientsPerSecond(managed("ses"), "falkenstein", limits)).toBe(200);
    expect(recipientsPerSecond(managed("ses"), "ashburn", limits)).toBe(0);
    // Resend: 2 requests/s × 100 recipients per batch call, half of it in this region, tenant cap 1000.
    expect(recipientsPerSecond(managed("resend"), "falkenstein", limits)).toBe(200);
    expect(recipientsPerSecond(managed("ses"), "falkenstein", { ...limits, tenantPerSecond: 50 })).toBe(50);
    // BYOK: the config's own rate (recipients for SES), split between regions.
    expect(recipientsPerSecond({ provider: "ses", mode: "byok", rateLimitPerSecond: 10, dryRun: false }, "falkenstein", DEFAULT_MANAGED_LIMITS)).toBe(5);
    expect(recipientsPerSecond({ ...managed("ses"), dryRun: true }, "falkenstein", limits)).toBe(Infinity);
  });

  it("is a whole number of chunks between the minimum and the maximum", () => {
    const limits = parseManagedLimits({ MANAGED_SES_RPS: "200", MANAGED_SHARE_FALKENSTEIN: "1", TENANT_SEND_RPS: "100000" });
    const cfg = { ...DEFAULT_PLAN_WINDOW, limits };
    // 200/s × 5 s = 1,000 recipients = 20 chunks of 50.
    expect(windowRecipients(managed("ses"), "falkenstein", cfg)).toBe(1000);
    // 7/s (the default managed SES share) × 5 s = 35 → at least 4 chunks.
    expect(windowRecipients(managed("ses"), "falkenstein", DEFAULT_PLAN_WINDOW)).toBe(200);
    // Dry runs go as fast as the senders can: the maximum.
    expect(windowRecipients({ ...managed("ses"), dryRun: true }, "falkenstein", cfg)).toBe(200 * 50);
    expect(windowRecipients(managed("resend"), "falkenstein", cfg) % 100).toBe(0);
  });

  it("reads its settings from the environment and refuses bad ones", () => {
    expect(parsePlanWindow({}).seconds).toBe(5);
    expect(parsePlanWindow({ PLAN_WINDOW_SECONDS: "0.5", PLAN_WINDOW_MIN_CHUNKS: "8" })).toMatchObject({ seconds: 0.5, minChunks: 8 });
    expect(() => parsePlanWindow({ PLAN_WINDOW_SECONDS: "-1" })).toThrow(/PLAN_WINDOW_SECONDS/);
  });
});
