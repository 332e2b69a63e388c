import { describe, expect, it } from "vitest";
import { call } from "./harness";
import { assertConformsToDocument } from "./openapi-conformance";

describe("OpenAPI document and reference page", () => {
  it("GET /v1/openapi.json is public OpenAPI 3.1 with every route, schemas named", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths).sort()).toEqual(
      [
        "/health",
        "/health/ready",
        "/v1/api-keys",
        "/v1/api-keys/{id}",
        "/v1/usage",
        "/v1/batches",
        "/v1/batches/{id}",
        "/v1/batches/{id}/cancel",
        "/v1/batches/{id}/pause",
        "/v1/batches/{id}/preview",
        "/v1/batches/{id}/recipients",
        "/v1/batches/{id}/resume",
        "/v1/batches/{id}/retry",
        "/v1/batches/{id}/send",
        "/webhooks/resend",
        "/webhooks/ses",
        "/webhooks/telnyx",
        "/v1/domains",
        "/v1/domains/{id}",
        "/v1/domains/{id}/verify",
        "/v1/send-configs",
        "/v1/send-configs/{id}",
        "/v1/suppressions",
        "/v1/suppressions/export",
        "/v1/suppressions/import",
        "/v1/suppressions/{channel}/{address}",
        "/v1/webhook-endpoints",
        "/v1/webhook-endpoints/{id}",
        "/v1/webhook-endpoints/{id}/rotate-secret",
        "/v1/webhook-endpoints/{id}/deliveries",
        "/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/replay",
      ].sort(),
    );
    expect(Object.keys(res.body.components.schemas)).toEqual(expect.arrayContaining(["Batch", "CreateBatchInput", "Problem", "RecipientList"]));
    expect(res.body.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("GET /docs renders the reference page for the document", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.body).toContain("/v1/openapi.json");
  });

  // The conformance check every call() runs must be able to fail.
  it("the response check rejects undocumented statuses, wrong shapes and non-problem errors", async () => {
    const id = "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10";
    const json = new Headers({ "content-type": "application/json" });
    const problem = new Headers({ "content-type": "application/problem+json" });
    await expect(assertConformsToDocument("GET", `/v1/batches/${id}`, 200, json, { id, object: "batch" })).rejects.toThrow(/does not match/);
    await expect(assertConformsToDocument("GET", `/v1/batches/${id}`, 418, problem, {})).rejects.toThrow(/not documented/);
    await expect(assertConformsToDocument("GET", "/nowhere", 404, json, { title: "x" })).rejects.toThrow(/problem\+json/);
    await expect(
      assertConformsToDocument("GET", "/nowhere", 404, problem, { type: "t", title: "Not found", status: 404, code: "not_found" }),
    ).resolves.toBeUndefined();
  });
});
