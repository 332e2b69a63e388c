/**
 * How to make a resource of each kind through the API, for the generated tests (fuzzing, the tenant-isolation
 * and test/live matrices). Those tests walk every operation of the served OpenAPI document; an operation with a
 * path parameter whose kind is not registered here FAILS them, so a new route cannot escape isolation testing.
 *
 * To cover a new resource: add an entry keyed by the documented path up to its id parameter (e.g.
 * "/v1/domains/{id}"), a `create` that makes one through the API with the given key and returns its ids by
 * path parameter name, and in `validRequests` a valid body/query for each operation that needs one (the
 * matrices must reach the handler's lookup: a 422 before it proves nothing).
 */
import { expect } from "vitest";
import { call, emailBatch, query } from "./harness";
import type { Operation } from "./openapi-conformance";

export interface ResourceKind {
  /** Makes one with this API key; the ids of the documented path parameters, by name. */
  create(apiKey: string): Promise<Record<string, string>>;
}

async function created(res: Promise<{ status: number; body: { id?: string } }>, what: string): Promise<string> {
  const { status, body } = await res;
  expect(status, `creating ${what}: ${JSON.stringify(body)}`).toBeLessThan(300);
  return body.id!;
}

const unique = () => crypto.randomUUID().slice(0, 8);
const webhookEndpoint = (apiKey: string) =>
  created(call("POST", "/v1/webhook-endpoints", { apiKey, body: { url: `https://hooks.example.com/${unique()}`, eventTypes: ["recipient.bounced"] } }), "a webhook endpoint");

export const resourceKinds: Record<string, ResourceKind> = {
  "/v1/batches/{id}": {
    create: async (apiKey) => ({ id: await created(call("POST", "/v1/batches", { apiKey, body: emailBatch() }), "a batch") }),
  },
  "/v1/api-keys/{id}": {
    create: async (apiKey) => ({ id: await created(call("POST", "/v1/api-keys", { apiKey, body: { name: "matrix", scopes: ["batches:read"] } }), "an API key") }),
  },
  "/v1/domains/{id}": {
    create: async (apiKey) => ({ id: await created(call("POST", "/v1/domains", { apiKey, body: { domain: `m${unique()}.example.com` } }), "a sending domain") }),
  },
  "/v1/send-configs/{id}": {
    create: async (apiKey) => ({
      id: await created(
        call("POST", "/v1/send-configs", { apiKey, body: { name: "matrix", channel: "email", mode: "managed", provider: "resend", defaults: { from: "A <a@test.batchsender.dev>" } } }),
        "a send config",
      ),
    }),
  },
  "/v1/suppressions/{channel}/{address}": {
    create: async (apiKey) => {
      const address = `s${unique()}@example.com`;
      const res = await call("POST", "/v1/suppressions", { apiKey, body: { address } });
      expect(res.status, `creating a suppression: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      return { channel: "email", address };
    },
  },
  "/v1/webhook-endpoints/{id}": {
    create: async (apiKey) => ({ id: await webhookEndpoint(apiKey) }),
  },
  // Deliveries are written by the delivery job, not through the API: one row for the endpoint made here.
  "/v1/webhook-endpoints/{id}/deliveries/{deliveryId}": {
    create: async (apiKey) => {
      const id = await webhookEndpoint(apiKey);
      const [row] = await query<{ id: string }>(
        `insert into webhook_deliveries (endpoint_id, event_id, event_type, payload, status)
         values ($1, $2, 'recipient.bounced', '{}'::jsonb, 'failed') returning id::text as id`,
        [id, `evt_${unique()}`],
      );
      return { id, deliveryId: row!.id };
    },
  },
};

/** A valid request per operation ("METHOD /template"), where the route requires a body or query. */
export const validRequests: Record<string, { body?: unknown; query?: string }> = {
  "POST /v1/batches": { body: emailBatch() },
  "POST /v1/batches/{id}/recipients": { body: { recipients: [{ to: "new@example.com" }] } },
  "GET /v1/batches/{id}/preview": { query: "recipient=ada@example.com" },
  "PATCH /v1/send-configs/{id}": { body: { name: "renamed" } },
  "PATCH /v1/webhook-endpoints/{id}": { body: { enabled: false } },
  "POST /v1/webhook-endpoints/{id}/rotate-secret": { body: { overlapSeconds: 0 } },
};

/** The registered kind for an operation's path parameters: the longest key that prefixes its template. */
export function kindFor(template: string): { key: string; kind: ResourceKind } | undefined {
  const key = Object.keys(resourceKinds)
    .filter((k) => template === k || template.startsWith(`${k}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (!key) return undefined;
  // Every path parameter of the operation must come from the kind (nested ids included).
  const params = template.match(/\{[^}]+\}/g) ?? [];
  if (params.some((p) => !key.includes(p))) return undefined;
  return { key, kind: resourceKinds[key]! };
}

/** Operations of the public API that take ids in their path. */
export const withPathIds = (ops: Operation[]): Operation[] => ops.filter((o) => o.template.startsWith("/v1/") && o.template.includes("{"));

/** The documented operations with no path ids that list something (a `data` array in the 200 answer). */
export function listOperations(ops: Operation[]): Operation[] {
  return ops.filter((o) => {
    if (o.method !== "GET" || !o.template.startsWith("/v1/") || o.template.includes("{")) return false;
    const schema = o.spec.responses?.["200"]?.content?.["application/json"]?.schema;
    return JSON.stringify(schema ?? {}).includes('"data"');
  });
}

/** Whether any of `ids` appears anywhere in a response body. */
export function mentionsAny(body: unknown, ids: string[]): string | undefined {
  const text = JSON.stringify(body ?? "");
  return ids.find((id) => text.includes(id));
}

export function requestFor(op: Operation, ids: Record<string, string>): { path: string; body?: unknown } {
  const valid = validRequests[`${op.method} ${op.template}`] ?? {};
  const path = Object.entries(ids).reduce((t, [name, id]) => t.replace(`{${name}}`, id), op.template);
  return { path: valid.query ? `${path}?${valid.query}` : path, body: valid.body };
}

/** Operations that need a body or a required query parameter but have no entry in `validRequests`. */
export function missingValidRequest(op: Operation): boolean {
  const needsQuery = (op.spec.parameters ?? []).some((p: { in: string; required?: boolean }) => p.in === "query" && p.required);
  const needsBody = Boolean(op.spec.requestBody?.required);
  return (needsQuery || needsBody) && !validRequests[`${op.method} ${op.template}`];
}
