// Issue 8: a BYOK SES send config created through the API sends with the customer's own credentials — the
// sandbox records which access key signed each SendEmail — while reads show only masked credentials. After a
// rotation (same config id) the next batch is signed with the new key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTenant } from "./support/fixtures";
import { apiClient, dbPool, stackInfo, waitFor } from "./support/stack";

const pool = dbPool();
afterAll(() => pool.end());

const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 8).toUpperCase();
const first = { accessKeyId: `AKIABYOK${suffix}0001`, secretAccessKey: `byok/e2e/${suffix}/secret/one`, region: "us-east-1" };
const second = { accessKeyId: `AKIABYOK${suffix}0002`, secretAccessKey: `byok/e2e/${suffix}/secret/two`, region: "us-east-1" };

async function sandboxKnows(keys: (typeof first)[]) {
  const res = await fetch(`${stackInfo().sandboxUrl}/_sandbox/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ credentials: { ses: keys } }) });
  expect(res.status).toBe(200);
}

describe("BYOK SES through the consumers", () => {
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    api = apiClient((await newTenant(pool, "byok")).apiKey);
    await sandboxKnows([first, second]);
  });

  async function sendBatch(configId: string): Promise<{ id: string; credentials: string[] }> {
    const created = await api("POST", "/v1/batches", {
      name: "BYOK",
      sendConfigId: configId,
      message: { from: "Shop <shop@customer-owned.example>", subject: "Hi {{ name }}", text: "Hello {{ name }}" },
      recipients: [{ to: "ada@example.com", variables: { name: "Ada" } }, { to: "grace@example.com", variables: { name: "Grace" } }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect((await api("POST", `/v1/batches/${id}/send`)).status).toBe(202);
    await waitFor("batch completed", async () => ((await api("GET", `/v1/batches/${id}`)).body.status === "completed" ? true : undefined));
    const { data } = (await (await fetch(`${stackInfo().sandboxUrl}/messages?batchId=${id}`)).json()) as { data: { credential: string; provider: string }[] };
    expect(data).toHaveLength(2);
    return { id, credentials: [...new Set(data.map((m) => m.credential))] };
  }

  it("sends with the customer's key, shows it masked, and switches on rotation under the same id", async () => {
    const config = await api("POST", "/v1/send-configs", { name: "Customer SES", channel: "email", mode: "byok", provider: "ses", credentials: first, rateLimitPerSecond: 50 });
    expect(config.status, JSON.stringify(config.body)).toBe(201);
    expect(config.body.credentials).toEqual({ accessKeyId: "••••0001", secretAccessKey: "••••/one", region: "us-east-1" });

    // BYOK mail goes out on the customer's own account: no platform domain verification applies.
    expect((await sendBatch(config.body.id as string)).credentials).toEqual([first.accessKeyId]);

    const rotated = await api("PATCH", `/v1/send-configs/${config.body.id}`, { credentials: second });
    expect([rotated.status, rotated.body.id]).toEqual([200, config.body.id]);
    expect((await sendBatch(config.body.id as string)).credentials).toEqual([second.accessKeyId]);

    const read = await api("GET", `/v1/send-configs/${config.body.id}`);
    expect(JSON.stringify(read.body)).not.toContain(second.secretAccessKey);
    expect(JSON.stringify(read.body)).not.toContain(second.accessKeyId);
  });
});
