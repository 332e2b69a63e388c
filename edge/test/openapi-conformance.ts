/**
 * Every response a worker test sees is checked against the generated OpenAPI document (`call()` in the
 * harness runs this): the status must be documented for the operation, and the body must validate against
 * the documented schema of its media type. Unknown routes must answer a valid problem document.
 * A JSON Schema 2020-12 validator that runs in workerd (@cfworker/json-schema; ajv compiles with `new
 * Function`, which workerd forbids).
 */
import { Validator, type Schema } from "@cfworker/json-schema";
import { SELF } from "cloudflare:test";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
  /** The operation object as documented, `$ref`s inlined (parameters, requestBody…): what the fuzzer and the matrices are generated from. */
  spec: Json;
}

let loaded: Promise<{ doc: Json; operations: Operation[] }> | undefined;

export function inlineRefs(node: Json, doc: Json, depth = 0): Json {
  if (depth > 50) throw new Error("recursive $ref in the OpenAPI document");
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, doc, depth + 1));
  if (node && typeof node === "object") {
    if (typeof node.$ref === "string") {
      const target = (node.$ref as string)
        .replace(/^#\//, "")
        .split("/")
        .reduce((at: Json, key: string) => at?.[key.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
      if (target === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
      return inlineRefs(target, doc, depth + 1);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inlineRefs(v, doc, depth + 1)]));
  }
  return node;
}

export function loadDocument(): Promise<{ doc: Json; operations: Operation[] }> {
  loaded ??= (async () => {
    const res = await SELF.fetch("https://api.batchsender.test/v1/openapi.json");
    if (res.status !== 200) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
    const doc = (await res.json()) as Json;
    const operations: Operation[] = [];
    for (const [template, item] of Object.entries<Json>(doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      for (const [method, op] of Object.entries<Json>(item)) {
        operations.push({ method: method.toUpperCase(), template, pattern, responses: op.responses, spec: inlineRefs(op, doc) });
      }
    }
    return { doc, operations };
  })();
  return loaded;
}

/** One compiled validator per documented schema: the fuzzer checks thousands of answers against the same few. */
const validators = new WeakMap<object, Validator>();

function validate(schema: Json, doc: Json, body: unknown, what: string): void {
  let validator = validators.get(schema);
  if (!validator) validators.set(schema, (validator = new Validator(inlineRefs(schema, doc) as Schema, "2020-12", false)));
  const result = validator.validate(body);
  if (!result.valid) {
    const errors = result.errors.map((e) => `${e.instanceLocation}: ${e.error}`).join("; ");
    throw new Error(`${what}: the response does not match the OpenAPI document: ${errors}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}

/** Paths outside the API's own description: the HTML reference page; operator routes (routes/admin.ts). */
const UNDESCRIBED = new Set(["/docs"]);
const UNDESCRIBED_PREFIXES = ["/admin/"];

export async function assertConformsToDocument(method: string, path: string, status: number, headers: Headers, body: unknown): Promise<void> {
  const pathname = new URL(path, "https://x").pathname;
  if (UNDESCRIBED.has(pathname) || UNDESCRIBED_PREFIXES.some((p) => pathname.startsWith(p)) || pathname === "/v1/openapi.json") return;
  // A CORS preflight the dashboard's origin got answered (middleware/cors.ts) is HTTP plumbing, not an operation.
  if (method === "OPTIONS" && status === 204 && headers.has("access-control-allow-origin")) return;
  const { doc, operations } = await loadDocument();
  const what = `${method} ${pathname} → ${status}`;
  const mediaType = headers.get("content-type")?.split(";")[0]?.trim() ?? "";
  const candidates = operations.filter((o) => o.pattern.test(pathname));
  const op = candidates.find((o) => o.method === method);
  if (!op) {
    // Unknown route or wrong method: a problem document all the same.
    if (status < 400) throw new Error(`${what}: succeeded on an undocumented operation`);
    if (mediaType !== "application/problem+json") throw new Error(`${what}: an error must be application/problem+json, got ${mediaType}`);
    validate(doc.components.schemas.Problem, doc, body, what);
    return;
  }
  const response = op.responses[String(status)];
  if (!response) throw new Error(`${what}: status ${status} is not documented for ${method} ${op.template}`);
  if (!response.content) return;
  const content = response.content[mediaType];
  if (!content) throw new Error(`${what}: media type ${mediaType} is not documented (${Object.keys(response.content).join(", ")})`);
  validate(content.schema, doc, body, what);
}
