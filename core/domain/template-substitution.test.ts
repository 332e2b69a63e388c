import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSubstitution, renderSubstitution } from "./template-substitution";
import { parseTemplate, renderTemplate, TEMPLATE_LIMITS, type TemplateKind } from "./templates";

const PIECES = [
  "{{", "}}", "{%", "%}", "{", "}", " ", "\t", "\n", "name", "first_name", "x", "-", "nil", "true", "empty", ".", "|",
  "<b>", "&", "'", '"', "Hi ", "{{ name }}", "{{first_name}}", "{{ x }}", "{{\nx\t}}", "{{ nil }}", "{{ true }}", "{{- x }}",
  "{{ x -}}", "{{ x | upcase }}", "{{ x.size }}", "{{ missing }}", "{{ constructor }}", "{{ toString }}", "{% raw %}", "{% endraw %}",
];
const template = fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((a) => a.join(""));
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("<a href='x'>&amp;\"</a>", "", "{{ x }}", " spaced "),
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.boolean(),
  fc.constant(["a", "b"]),
  fc.constant({ k: "v" }),
);
const scope = fc.record({ name: value, first_name: value, x: value }, { requiredKeys: [] });
const kind = fc.constantFrom<TemplateKind>("text", "html");

function liquid(k: TemplateKind, source: string, vars: object): { ok: true; out: string } | { ok: false } {
  let parsed;
  try {
    parsed = parseTemplate(k, source);
  } catch {
    return { ok: false };
  }
  return { ok: true, out: renderTemplate(k, parsed, vars) };
}

describe("variable-substitution fast path", () => {
  it("renders exactly what Liquid renders whenever it answers, and only templates Liquid accepts", () => {
    fc.assert(
      fc.property(template, scope, kind, (source, vars, k) => {
        const sub = compileSubstitution(source);
        if (!sub) return;
        const expected = liquid(k, source, vars);
        expect(expected.ok, `Liquid refuses ${JSON.stringify(source)}`).toBe(true);
        const fast = renderSubstitution(sub, vars, { html: k === "html", memory: TEMPLATE_LIMITS.memory });
        if (fast === undefined) return;
        expect(fast).toBe((expected as { out: string }).out);
      }),
      { numRuns: 1500 },
    );
  }, 120_000);

  it("takes the templates real batches use, and leaves everything else of Liquid to Liquid", () => {
    expect(compileSubstitution("Hello {{ name }}, order {{order_id}} is on its way")).toEqual({
      parts: ["Hello ", ", order ", " is on its way"],
      names: ["name", "order_id"],
    });
    expect(compileSubstitution("no variables at all")).toEqual({ parts: ["no variables at all"], names: [] });
    for (const s of ["{% if a %}x{% endif %}", "{{ a | upcase }}", "{{ a.b }}", "{{- a }}", "{{ nil }}", "{{{ a }}}", "{{ 'lit' }}", "{{ a"]) {
      expect(compileSubstitution(s), s).toBeUndefined();
    }
  });

  it("escapes strings in HTML bodies as Liquid's escape does, and leaves non-strings to Liquid", () => {
    const sub = compileSubstitution("<p>{{ x }}</p>")!;
    expect(renderSubstitution(sub, { x: `<a href="u">Tom & 'Jerry'</a>` }, { html: true, memory: 1e6 })).toBe("<p>&lt;a href=&#34;u&#34;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;</p>");
    expect(renderSubstitution(sub, { x: "<b>" }, { html: false, memory: 1e6 })).toBe("<p><b></p>");
    expect(renderSubstitution(sub, {}, { html: true, memory: 1e6 })).toBe("<p></p>");
    expect(renderSubstitution(sub, { x: 3 }, { html: true, memory: 1e6 })).toBeUndefined();
    expect(renderSubstitution(sub, Object.create({ x: "inherited" }) as object, { html: false, memory: 1e6 })).toBe("<p></p>");
  });

  it("leaves a render that reaches the memory budget to Liquid (which fails it with its own message)", () => {
    const sub = compileSubstitution("{{ x }}{{ x }}")!;
    expect(renderSubstitution(sub, { x: "abcde" }, { html: true, memory: 10 })).toBeUndefined();
    expect(renderSubstitution(sub, { x: "abcde" }, { html: true, memory: 11 })).toBe("abcdeabcde");
  });
});
