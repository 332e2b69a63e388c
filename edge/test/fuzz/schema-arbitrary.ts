/**
 * fast-check arbitraries generated from the JSON Schemas of the served OpenAPI document, so every route's
 * body, query and path parameters are fuzzed from the schema that validates them (no hand-written list).
 *
 * `validish(schema)` follows the schema (types, enums, oneOf, required properties, lengths, formats) and
 * picks boundary values on purpose, so many cases get past validation into the service code and Postgres;
 * `fuzzed(schema)` mixes those with one subtree replaced by hostile JSON: wrong types, NUL, lone surrogates,
 * huge strings and numbers, deep nesting, unicode from every plane.
 */
import fc from "fast-check";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Strings that reach the interesting branches: real addresses, numbers, URLs, templates and injections. */
export const plausibleStrings = [
  "ada@example.com",
  "Ada Lovelace <ada@example.com>",
  "ADA@Example.COM",
  "+4915112345678",
  "https://hooks.example.com/a",
  "http://169.254.169.254/latest/meta-data",
  "{{ name }}",
  "{% for x in (1..100000000) %}{{ x }}{% endfor %}",
  "{{ x",
  "'; drop table batches; --",
  "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10",
  "00000000-0000-0000-0000-000000000000",
  "2030-01-01T00:00:00Z",
  "1970-01-01T00:00:00Z",
];

export const hostileStrings = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "\udc00\ud800",
  "%00",
  "../../etc/passwd",
  "\r\nX-Injected: 1",
  "𝓍".repeat(300),
  "\u202e\u0301\ufeff",
  "-1",
  "1e400",
  "NaN",
  "null",
  "[object Object]",
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...hostileStrings, ...plausibleStrings),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: fc.constantFrom("\u0000", "\ud800", "\udfff", "a", "é", "😀"), maxLength: 20 }),
  // Huge: past every maxLength in the document, short of the 8 MiB body limit.
  fc.integer({ min: 2_049, max: 600_000 }).map((n) => "x".repeat(n)),
);

/** JSON nested up to thousands deep, as arrays or objects. */
const deepJson = fc
  .tuple(fc.integer({ min: 30, max: 5_000 }), fc.boolean())
  .map(([n, arrays]) => JSON.parse(arrays ? "[".repeat(n) + "]".repeat(n) : '{"a":'.repeat(n) + "1" + "}".repeat(n)) as unknown);

export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, -0, 4294967296) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 4 }) },
);

function stringFor(s: Json): fc.Arbitrary<string> {
  const min: number = s.minLength ?? 0;
  const max: number = s.maxLength ?? 64;
  const options: fc.Arbitrary<string>[] = [fc.string({ minLength: min, maxLength: Math.min(max, min + 40) })];
  if (s.format === "uuid") options.push(fc.uuid());
  if (s.format === "date-time") options.push(fc.date({ min: new Date("1960-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString()));
  if (s.format === "email") options.push(fc.emailAddress());
  if (s.format === "uri" || s.format === "url") options.push(fc.webUrl());
  if (typeof s.pattern === "string") options.push(matching(s.pattern).filter((v) => v.length >= min && v.length <= max));
  if (s.example !== undefined) options.push(fc.constant(String(s.example)));
  // Boundaries: exactly min and max long, one past each.
  const edges = [min, Math.min(max, 100_000), min - 1, max + 1].filter((n) => n >= 0 && n <= 600_000);
  options.push(fc.constantFrom(...edges).map((n) => "a".repeat(n)));
  options.push(fc.constantFrom(...plausibleStrings));
  return fc.oneof(...options);
}

function numberFor(s: Json, integer: boolean): fc.Arbitrary<number> {
  const min: number | undefined = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : undefined);
  const max: number | undefined = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : undefined);
  const edges = [min, max, min !== undefined ? min - 1 : undefined, max !== undefined ? max + 1 : undefined, 0, -1].filter((n) => n !== undefined);
  return fc.oneof(
    integer ? fc.integer({ min: min ?? -1_000_000, max: max ?? 1_000_000 }) : fc.double({ min: min ?? -1e9, max: max ?? 1e9, noNaN: true }),
    fc.constantFrom(...(edges as number[])),
  );
}

/** A value following the schema (mostly valid, with boundary values that sit just outside it too). */
export function validish(schema: Json, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || typeof schema !== "object" || depth > 8) return fc.jsonValue({ maxDepth: 2 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s: Json) => validish(s, depth + 1)));
  if (Array.isArray(schema.allOf)) return validish(Object.assign({}, ...schema.allOf), depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return stringFor(schema);
    case "integer":
      return numberFor(schema, true);
    case "number":
      return numberFor(schema, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const min: number = schema.minItems ?? 0;
      const items = validish(schema.items ?? {}, depth + 1);
      return fc.oneof(
        { weight: 6, arbitrary: fc.array(items, { minLength: min, maxLength: Math.max(min, Math.min(schema.maxItems ?? 5, min + 4)) }) },
        { weight: 1, arbitrary: fc.constant([]) },
        // One past maxItems is cheap to describe but expensive to send: only for small limits.
        ...(schema.maxItems !== undefined && schema.maxItems < 200 ? [{ weight: 1, arbitrary: fc.array(items, { minLength: schema.maxItems + 1, maxLength: schema.maxItems + 1 }) }] : []),
      );
    }
    case "object":
    case undefined: {
      const props: Record<string, Json> = schema.properties ?? {};
      const required = new Set<string>(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = validish(v, depth + 1);
      const known = fc.record(record, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
      if (!schema.additionalProperties || typeof schema.additionalProperties !== "object") return known;
      const extra = fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("name", "Subject", "X-Tag", "From")), validish(schema.additionalProperties, depth + 1), { maxKeys: 4 });
      return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a }));
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Every path into a JSON value (object keys, the first array items). */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.slice(0, 3).map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

/** The value with the node at `path` replaced (or removed, or given an extra key). */
function mutateAt(root: unknown, path: (string | number)[], how: { replacement: unknown; remove: boolean; extraKey?: string }): unknown {
  if (path.length === 0) return how.replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (how.remove) {
    if (Array.isArray(at)) at.splice(Number(last), 1);
    else delete at[last];
  } else if (how.extraKey !== undefined && at && typeof at === "object" && !Array.isArray(at)) {
    at[how.extraKey] = how.replacement;
  } else at[last] = how.replacement;
  return copy;
}

/** Schema-following values, and the same with one node made hostile, removed, or joined by an unknown key. */
export function fuzzed(schema: Json): fc.Arbitrary<unknown> {
  const base = validish(schema);
  const mutated = fc
    .tuple(base, fc.nat(), hostileJson, fc.constantFrom("replace", "replace", "remove", "extra"), hostileString)
    .map(([value, pick, replacement, how, key]) => {
      const paths = pathsOf(value);
      const path = paths[pick % paths.length]!;
      return mutateAt(value, path, { replacement, remove: how === "remove", extraKey: how === "extra" ? key : undefined });
    });
  return fc.oneof({ weight: 3, arbitrary: base }, { weight: 6, arbitrary: mutated }, { weight: 1, arbitrary: hostileJson });
}

/**
 * Strings matching a schema pattern. fast-check cannot generate from lookaheads or backreferences (e.g. the
 * domain name rule `^(?=.{4,253}$)…`): for those, the same pattern without its lookaheads, filtered by the
 * real one, so the values still match what the schema documents.
 */
function matching(pattern: string): fc.Arbitrary<string> {
  const re = new RegExp(pattern);
  const unsupported = /\(\?[=!<]|\\[1-9]/.test(pattern);
  if (!unsupported) return fc.stringMatching(re);
  const relaxed = pattern.replace(/\(\?[=!][^()]*\)/g, "");
  return fc.stringMatching(new RegExp(relaxed)).filter((v) => re.test(v));
}
