// Issues 7 and 8, security: every documented route with ids in its path, called as tenant B with tenant A's
// real ids, answers a 404 problem; no list shows A's rows to B. Generated from the served OpenAPI document:
// a route added later is covered without touching this file, and fails it until its resource kind is
// registered in edge/test/resources.ts.
import { describe, expect, it } from "vitest";
import { newTenant } from "./harness";
import { isolationMatrix } from "./isolation-matrix";
import { kindFor } from "./resources";

describe("tenant isolation matrix", () => {
  it("a route whose resource the registry cannot make is not matched (the matrix then fails it)", () => {
    expect(kindFor("/v1/batches/{id}/recipients")?.key).toBe("/v1/batches/{id}");
    expect(kindFor("/v1/widgets/{id}")).toBeUndefined();
    expect(kindFor("/v1/batches/{id}/attachments/{attachmentId}")).toBeUndefined();
  });

  it("every route with another tenant's ids is a 404, and no list shows them", { timeout: 600_000 }, async () => {
    const [a, b] = await Promise.all([newTenant(), newTenant()]);
    const { failures, checked } = await isolationMatrix(a.apiKey, b.apiKey);
    expect(failures).toEqual([]);
    // The document has routes with ids and lists: an empty matrix would pass vacuously.
    expect(checked).toEqual(expect.arrayContaining(["GET /v1/batches/{id}", "GET /v1/batches"]));
  });
});
