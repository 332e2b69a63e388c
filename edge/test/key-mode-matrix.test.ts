// Issue 7: a test key sees and acts only on test-mode data, a live key only on live data — for every
// documented route with ids in its path (404 problem) and every list, generated from the served OpenAPI
// document like the tenant-isolation matrix (edge/test/isolation-matrix.ts).
import { describe, expect, it } from "vitest";
import { addApiKey, newTenant } from "./harness";
import { isolationMatrix } from "./isolation-matrix";

describe("test/live key matrix", () => {
  it("a test key gets a 404 for every route with live-mode ids, and a live key for test-mode ids", { timeout: 600_000 }, async () => {
    const tenant = await newTenant({ mode: "live" });
    const testKey = await addApiKey(tenant.tenantId, "test");
    // KNOWN DEFECT, kept visible here (issue 8): send configs have no mode yet, so a test key reads and changes
    // the live configs of its tenant. Remove this line when send_configs gains a mode; the matrix then covers it.
    const knownGaps = ["/v1/send-configs/{id}"];
    const liveData = await isolationMatrix(tenant.apiKey, testKey, { knownGaps });
    // By design, not a gap: a live key manages the account's keys of both modes (README, "API keys and scopes";
    // as one Stripe account holds both key sets), so test keys are visible to it. The other direction is checked.
    const testData = await isolationMatrix(testKey, tenant.apiKey, { knownGaps: [...knownGaps, "/v1/api-keys/{id}"] });
    expect([...liveData.failures.map((f) => `live data, test key: ${f}`), ...testData.failures.map((f) => `test data, live key: ${f}`)]).toEqual([]);
    expect(liveData.checked).toEqual(expect.arrayContaining(["GET /v1/batches/{id}", "GET /v1/batches"]));
  });
});
