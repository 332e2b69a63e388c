// Issue 7: a test key sees and acts only on test-mode data; a live key only on live data. Before, a test key
// could send, pause or cancel a live batch of its tenant.
import { describe, expect, it } from "vitest";
import { addApiKey, call, emailBatch, newTenant, query } from "./harness";



describe("test and live keys", () => {
  it("a test key cannot see or act on a live batch, and the other way round", async () => {
    const live = await newTenant({ mode: "live" });
    const testKey = await addApiKey(live.tenantId, "test");
    const liveBatch = (await call("POST", "/v1/batches", { apiKey: live.apiKey, body: emailBatch({ name: "live" }) })).body;
    const testBatch = (await call("POST", "/v1/batches", { apiKey: testKey, body: emailBatch({ name: "test" }) })).body;
    expect(testBatch.dryRun).toBe(true);
    const [modes] = await query<{ live: string; test: string }>(
      "select (select mode::text from batches where id = $1) as live, (select mode::text from batches where id = $2) as test",
      [liveBatch.id, testBatch.id],
    );
    expect(modes).toEqual({ live: "live", test: "test" });

    for (const [key, foreign] of [
      [testKey, liveBatch.id],
      [live.apiKey, testBatch.id],
    ] as const) {
      expect((await call("GET", `/v1/batches/${foreign}`, { apiKey: key })).status).toBe(404);
      expect((await call("GET", `/v1/batches/${foreign}/recipients`, { apiKey: key })).status).toBe(404);
      expect((await call("GET", `/v1/batches/${foreign}/preview?recipient=ada@example.com`, { apiKey: key })).status).toBe(404);
      expect((await call("POST", `/v1/batches/${foreign}/recipients`, { apiKey: key, body: { recipients: [{ to: "x@example.com" }] } })).status).toBe(404);
      for (const action of ["send", "pause", "resume", "cancel", "retry"]) {
        expect((await call("POST", `/v1/batches/${foreign}/${action}`, { apiKey: key })).status, action).toBe(404);
      }
      expect((await call("GET", `/v1/batches?starting_after=${foreign}`, { apiKey: key })).status).toBe(404);
    }
    const liveList = await call("GET", "/v1/batches", { apiKey: live.apiKey });
    expect(liveList.body.data.map((b: { id: string }) => b.id)).toEqual([liveBatch.id]);
    const testList = await call("GET", "/v1/batches", { apiKey: testKey });
    expect(testList.body.data.map((b: { id: string }) => b.id)).toEqual([testBatch.id]);

    const [after] = await query<{ status: string }>("select status::text as status from batches where id = $1", [liveBatch.id]);
    expect(after!.status).toBe("draft");
    // Its own mode still works.
    expect((await call("POST", `/v1/batches/${testBatch.id}/cancel`, { apiKey: testKey })).status).toBe(200);
  });
});
