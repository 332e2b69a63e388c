// Issue 2, point 7: a 1,000-recipient batch created through the edge API (workerd) is planned and sent by
// the regional consumers through the SES sandbox (real SigV4), and every recipient ends `sent` exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTenant } from "./support/fixtures";
import { apiClient, dbPool, stackInfo, waitFor } from "./support/stack";

const pool = dbPool();
afterAll(() => pool.end());

describe("walking skeleton: edge → NATS → consumer → SES sandbox → Postgres", () => {
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    const tenant = await newTenant(pool, "skeleton");
    api = apiClient(tenant.apiKey);
  });

  it("delivers a 1,000-recipient batch: completed, 1,000 distinct sandbox messages, every recipient sent", async () => {
    const recipients = Array.from({ length: 1000 }, (_, i) => ({
      to: `user${i}@example.com`,
      variables: { name: `User ${i}` },
    }));
    const created = await api("POST", "/v1/batches", {
      name: "Skeleton 1k",
      message: { from: "Skeleton <skeleton@demo.batchsender.dev>", subject: "Hello {{ name }}", text: "Hi {{ name }}, #{{ name | size }}" },
      recipients,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect((created.body.counts as { total: number }).total).toBe(1000);

    const sent = await api("POST", `/v1/batches/${id}/send`);
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);

    const done = await waitFor("batch completed", async () => {
      const r = await api("GET", `/v1/batches/${id}`);
      return r.body.status === "completed" ? r.body : undefined;
    });
    expect(done.counts).toMatchObject({ total: 1000, sent: 1000, failed: 0, queued: 0 });

    const { rows } = await pool.query<{ status: string; n: string }>(
      "select status, count(*) as n from recipients where batch_id = $1 group by status",
      [id],
    );
    expect(rows).toEqual([{ status: "sent", n: "1000" }]);

    const res = await fetch(`${stackInfo().sandboxUrl}/messages?batchId=${id}&limit=2000`);
    const { data } = (await res.json()) as { data: { to: string; subject?: string; provider: string }[] };
    expect(data).toHaveLength(1000);
    expect(new Set(data.map((m) => m.to)).size).toBe(1000);
    expect(data.every((m) => m.provider === "ses")).toBe(true);
    const ada = data.find((m) => m.to === "user7@example.com");
    expect(ada?.subject).toBe("Hello User 7");
  });
});
