/**
 * The local stack serves ClickHouse (chdb over HTTP) with the analytics migrations applied, and the analytics
 * writer + queries work against it end to end.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openClickHouse } from "../consumers/analytics/client";
import { batchFunnel } from "../consumers/analytics/queries";
import { createAnalyticsWriter } from "../consumers/analytics/writer";
import { stackInfo } from "./support/stack";

describe("ClickHouse on the local stack", () => {
  it("has the migrations applied and counts what the writer inserted", async () => {
    const ch = openClickHouse({ url: stackInfo().urls.clickhouseUrl });
    try {
      const applied = await (await ch.query({ query: "SELECT name FROM schema_migrations ORDER BY name", format: "JSONEachRow" })).json();
      expect(applied).toEqual(expect.arrayContaining([{ name: "0000_events.sql" }, { name: "0001_events_minute.sql" }]));
      const tenant = randomUUID();
      const batch = randomUUID();
      const writer = createAnalyticsWriter({ client: ch });
      await writer.write(
        ["queued", "sent", "delivered", "opened"].map((event_type) => ({
          tenant_id: tenant,
          batch_id: batch,
          recipient_id: randomUUID(),
          time: new Date(),
          event_type: event_type as "queued",
          channel: "email" as const,
          provider: "ses" as const,
          region: "falkenstein" as const,
        })),
      );
      await writer.close();
      const f = await batchFunnel(ch, tenant, batch);
      expect(f.counts).toMatchObject({ queued: 1, sent: 1, delivered: 1, opened: 1, bounced: 0 });
    } finally {
      await ch.close();
    }
  });
});
