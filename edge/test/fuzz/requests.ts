/**
 * One arbitrary per documented operation: a whole HTTP request (path parameters, query, header parameters,
 * body and media type) generated from the operation as the served OpenAPI document describes it. Real ids
 * of the caller's own resources are mixed into path parameters, so cases reach past the 404 into handlers.
 */
import fc from "fast-check";
import type { Operation } from "../openapi-conformance";
import { fuzzed, hostileString, validish } from "./schema-arbitrary";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** No Content-Type header at all. */
  omitContentType?: boolean;
}

/** URLs are UTF-8: a lone surrogate cannot be sent in one (encodeURIComponent throws), so it becomes U+FFFD as a browser would. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const encodeSegment = (v: string): string => encodeURIComponent(v.replace(LONE_SURROGATE, "\uFFFD"));

const asText = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v) ?? "");

/** Header values must be ByteStrings without CR/LF (fetch throws otherwise): keep Latin-1, drop the rest. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is dropped
const headerSafe = (v: string): string => v.replace(/[^\x09\x20-\x7e\x80-\xff]/g, "");

function paramValue(schema: Json, real: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    ...(real.length ? [{ weight: 4, arbitrary: fc.constantFrom(...real) }] : []),
    { weight: 2, arbitrary: validish(schema).map(asText) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: hostileString },
  );
}

const queryArb = (params: Json[]): fc.Arbitrary<string> => {
  const documented = params.map((p) =>
    fc.option(paramValue(p.schema, []).map((v) => [p.name as string, v] as const), { nil: undefined, freq: p.required ? 8 : 2 }),
  );
  const unknown = fc.option(fc.tuple(hostileString, hostileString), { nil: undefined, freq: 4 });
  // Encodings URLSearchParams would never produce: bad percent escapes, an encoded NUL, an overlong UTF-8 byte.
  const raw = fc.option(fc.constantFrom("%", "%zz", "%E0%A4", "%00", "%C0%AE", "a=%FF%FE", "&&&", "=="), { nil: undefined, freq: 6 });
  return fc.tuple(fc.tuple(...documented), unknown, raw).map(([pairs, extra, rawPart]) => {
    const q = new URLSearchParams();
    for (const pair of pairs) if (pair) q.append(pair[0], pair[1]);
    if (extra) q.append(extra[0], extra[1]);
    const text = q.toString();
    return [text, rawPart].filter(Boolean).join("&");
  });
};

const WRONG_MEDIA_TYPES = ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "application/x-ndjson", "text/csv", "image/png"];

/** Bodies for one documented media type: schema-driven for JSON; lines of hostile cells for NDJSON/CSV/text. */
function bodyFor(mediaType: string, schema: Json): fc.Arbitrary<string> {
  if (/json$/.test(mediaType.split(";")[0]!) && !/ndjson/.test(mediaType)) return fuzzed(schema ?? {}).map(asText);
  const cell = fc.oneof(hostileString, fc.constantFrom("to", "ada@example.com", '"a,b"', '"unterminated', "", "x".repeat(5000)));
  const line = /csv/.test(mediaType)
    ? fc.array(cell, { maxLength: 6 }).map((cells) => cells.join(","))
    : fuzzed(schema?.items ?? {}).map(asText);
  return fc.oneof(
    fc.array(line, { maxLength: 20 }).map((lines) => lines.join("\n")),
    fc.tuple(fc.constantFrom("to,name", "to"), fc.array(line, { maxLength: 20 })).map(([header, lines]) => [header, ...lines].join("\r\n")),
  );
}

function bodyArb(spec: Json): fc.Arbitrary<Pick<FuzzRequest, "body" | "omitContentType"> & { contentType?: string }> {
  const content: Record<string, { schema?: Json }> = spec.requestBody?.content ?? {};
  const documented = Object.entries(content).map(([type, { schema }]) =>
    bodyFor(type, schema).map((body) => ({ body, contentType: type as string | undefined })),
  );
  const junk = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.constantFrom("", " ", "{", "[", '{"a":', "null", "[]", "{}", "\u0000", '{"a":"\\ud800"}', '{"__proto__":{"x":1}}', '{"a":1,"a":2}'),
  );
  // A documented body cut short: truncated JSON or CSV mid-token.
  const truncated = documented.length ? fc.tuple(fc.oneof(...documented), fc.nat()).map(([b, n]) => ({ ...b, body: b.body.slice(0, n % Math.max(1, b.body.length)) })) : undefined;
  const bytes = fc.uint8Array({ maxLength: 300 }).map((body) => ({ body, contentType: Object.keys(content)[0] ?? "application/json" }));
  const wrongType = fc.tuple(documented.length ? fc.oneof(...documented) : junk.map((body) => ({ body })), fc.constantFrom(...WRONG_MEDIA_TYPES)).map(([b, contentType]) => ({ body: b.body, contentType }));
  const noType = (documented.length ? fc.oneof(...documented) : junk.map((body) => ({ body }))).map((b) => ({ body: b.body, omitContentType: true }));
  if (!documented.length) {
    // No body documented: mostly none, sometimes one anyway.
    return fc.oneof({ weight: 8, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: junk.map((body) => ({ body, contentType: "application/json" })) }, { weight: 1, arbitrary: wrongType });
  }
  return fc.oneof(
    { weight: 12, arbitrary: fc.oneof(...documented) },
    { weight: 2, arbitrary: junk.map((body) => ({ body, contentType: Object.keys(content)[0] })) },
    { weight: 1, arbitrary: truncated! },
    { weight: 1, arbitrary: bytes },
    { weight: 1, arbitrary: wrongType },
    { weight: 1, arbitrary: noType },
    { weight: 1, arbitrary: fc.constant({ omitContentType: true }) },
  );
}

/** Every request of one operation; `ids` are real ids of the caller's resources, per path parameter name. */
export function requestArbitrary(op: Operation, ids: Record<string, string[]>): fc.Arbitrary<FuzzRequest> {
  const params: Json[] = op.spec.parameters ?? [];
  const pathParams = params.filter((p) => p.in === "path");
  const headerParams = params.filter((p) => p.in === "header");
  const path = fc.tuple(...pathParams.map((p) => paramValue(p.schema, ids[p.name] ?? []).map((v) => [p.name as string, v] as const))).map((pairs) =>
    pairs.reduce((t, [name, v]) => t.replace(`{${name}}`, encodeSegment(v)), op.template),
  );
  const headers = fc
    .tuple(...headerParams.map((p) => fc.option(paramValue(p.schema, []).map((v) => [p.name as string, headerSafe(v)] as const), { nil: undefined, freq: 3 })))
    .map((pairs) => Object.fromEntries(pairs.filter((p) => p !== undefined)) as Record<string, string>);
  // fetch cannot send a body with GET or HEAD.
  const body = op.method === "GET" || op.method === "HEAD" ? fc.constant({}) : bodyArb(op.spec);
  return fc.tuple(path, queryArb(params.filter((p) => p.in === "query")), headers, body).map(([p, q, h, b]: [string, string, Record<string, string>, Pick<FuzzRequest, "body" | "omitContentType"> & { contentType?: string }]) => ({
    method: op.method,
    path: q ? `${p}?${q}` : p,
    headers: b.contentType ? { ...h, "content-type": b.contentType } : h,
    body: b.body,
    omitContentType: b.omitContentType,
  }));
}
