/**
 * Worker-test harness (runs inside workerd): every test makes its own tenant, API key and default email send
 * config directly through the Neon driver, with the statement every test tenant uses (test/support/fixture-sql.ts),
 * so tests never share state; requests go through the real Worker with a random CF-Connecting-IP unless a test
 * pins one.
 */
import { Client, neonConfig } from "@neondatabase/serverless";
import { createExecutionContext, SELF, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { generateApiKey } from "../../core/domain/api-keys";
import { API_KEY_SQL, apiKeyParams, TENANT_WITH_KEY_SQL, tenantWithKeyParams, type TenantWithKeyRow } from "../../test/support/fixture-sql";
import worker from "../worker";
import { assertConformsToDocument } from "./openapi-conformance";

export const testEnv = env;

function configureDriver(): void {
  const proxy = env.NEON_WS_PROXY as string | undefined;
  if (!proxy) return;
  neonConfig.wsProxy = () => proxy;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/** One short-lived connection per call: workerd does not let I/O objects outlive the test that made them. */
export async function query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  configureDriver();
  const client = new Client(env.DATABASE_URL as string);
  // The proxy closing the socket after end() surfaces as an error event; nothing is in flight by then.
  client.on("error", () => {});
  await client.connect();
  try {
    const res = await client.query(text, params);
    return res.rows as T[];
  } finally {
    await client.end();
  }
}

export interface TestTenant {
  tenantId: string;
  apiKey: string;
  apiKeyId: string;
  sendConfigId: string;
}

export async function newTenant(opts: { mode?: "live" | "test"; withDefaultConfig?: boolean; scopes?: string[] } = {}): Promise<TestTenant> {
  const key = await generateApiKey(opts.mode ?? "live");
  const [row] = await query<TenantWithKeyRow>(
    TENANT_WITH_KEY_SQL,
    tenantWithKeyParams({
      tenantName: `worker test ${crypto.randomUUID().slice(0, 8)}`,
      key,
      keyName: "worker test",
      configName: "Managed email",
      from: "Test <hello@test.batchsender.dev>",
      withDefaultConfig: opts.withDefaultConfig ?? true,
      scopes: opts.scopes,
    }),
  );
  return { tenantId: row!.tenant_id, apiKey: key.key, apiKeyId: row!.api_key_id, sendConfigId: row!.send_config_id ?? "" };
}

/** Another key of an existing tenant (scope `admin` unless given). */
export async function newKey(tenantId: string, opts: { mode?: "live" | "test"; scopes?: string[]; name?: string } = {}): Promise<{ apiKey: string; apiKeyId: string }> {
  const key = await generateApiKey(opts.mode ?? "live");
  const [row] = await query<{ id: string }>(API_KEY_SQL, apiKeyParams(tenantId, key, opts));
  return { apiKey: key.key, apiKeyId: row!.id };
}

/** Another key of an existing tenant, e.g. a test key next to its live one. */
export async function addApiKey(tenantId: string, mode: "live" | "test"): Promise<string> {
  return (await newKey(tenantId, { mode })).apiKey;
}

/** A managed, default send config for another channel (newTenant makes the email one). */
export async function addSendConfig(t: TestTenant, channel: "sms" | "webhook", defaults: Record<string, unknown> = {}): Promise<string> {
  const provider = channel === "sms" ? "telnyx" : "webhook";
  const [row] = await query<{ id: string }>(
    `insert into send_configs (tenant_id, name, channel, mode, provider, defaults, is_default)
     values ($1, $2, $3, 'managed', $4, $5::jsonb, true) returning id`,
    [t.tenantId, `${channel} config`, channel, provider, JSON.stringify(defaults)],
  );
  return row!.id;
}

export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function toApiResponse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

export interface CallOptions {
  apiKey?: string;
  ip?: string;
  headers?: Record<string, string>;
  /** A raw body (string or bytes) is sent as is; anything else as JSON. */
  body?: unknown;
  /** Send the body without any Content-Type (the fuzzer's missing-media-type case). */
  omitContentType?: boolean;
  /** Call the handler directly with these bindings replaced (failure-policy tests). */
  envOverrides?: Record<string, string>;
}

export async function call(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { "cf-connecting-ip": opts.ip ?? randomIp(), ...(opts.headers ?? {}) };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  let body: string | Uint8Array | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" || opts.body instanceof Uint8Array ? opts.body : JSON.stringify(opts.body);
    if (!opts.omitContentType && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  const request = new Request(`https://api.batchsender.test${path}`, { method, headers, body });
  if (!opts.envOverrides) {
    const res = await toApiResponse(await SELF.fetch(request));
    await assertConformsToDocument(method, path, res.status, res.headers, res.body);
    return res;
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, { ...env, ...opts.envOverrides }, ctx);
  const out = await toApiResponse(res);
  await waitOnExecutionContext(ctx);
  return out;
}

export function emailBatch(overrides: Record<string, unknown> = {}, recipients = ["ada@example.com", "grace@example.com"]) {
  return {
    name: "Newsletter",
    message: { subject: "Hello {{ name }}", html: "<p>Hi {{ name }}</p>", text: "Hi {{ name }}" },
    recipients: recipients.map((to, i) => ({ to, variables: { name: `R${i}` } })),
    ...overrides,
  };
}
