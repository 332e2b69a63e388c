import { describe, expect, it } from "vitest";
import { checkTemplates, parseTemplate, renderTemplate, TemplateError } from "./templates";

describe("the Liquid engine factory", () => {
  it("escapes variables in HTML bodies and not in text", () => {
    const scope = { name: "<b>Ada</b>" };
    expect(renderTemplate("html", parseTemplate("html", "Hi {{ name }}"), scope)).toBe("Hi &lt;b&gt;Ada&lt;/b&gt;");
    expect(renderTemplate("text", parseTemplate("text", "Hi {{ name }}"), scope)).toBe("Hi <b>Ada</b>");
  });

  it("stops a hostile nested loop with a render limit instead of running for minutes", () => {
    const parsed = parseTemplate("html", "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}");
    const started = Date.now();
    let caught: unknown;
    try {
      renderTemplate("html", parsed, {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    expect((caught as TemplateError).limit).toMatch(/render|memory/);
    expect((caught as TemplateError).message).toMatch(/render limit exceeded/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("stops exponential string growth with the memory limit", () => {
    const parsed = parseTemplate("text", "{% assign x = 'aaaaaaaaaa' %}{% for i in (1..40) %}{% assign x = x | append: x %}{% endfor %}{{ x | size }}");
    expect(() => renderTemplate("text", parsed, {})).toThrow(/render limit exceeded/);
  });

  it("has no file system: include and render find nothing", () => {
    expect(() => renderTemplate("text", parseTemplate("text", "{% include '/etc/passwd' %}"), {})).toThrow(TemplateError);
  });

  it("reports syntax errors and unknown filters per field", () => {
    const errors = checkTemplates([
      { path: "message.subject", kind: "text", source: "Hi {{ name " },
      { path: "message.html", kind: "html", source: "{{ name | nosuchfilter }}" },
      { path: "message.text", kind: "text", source: "fine {{ name }}" },
      { path: "message.replyTo", kind: "text", source: undefined },
    ]);
    expect(errors.map((e) => e.path)).toEqual(["message.subject", "message.html"]);
    expect(errors[0]!.message).toMatch(/Liquid syntax error/);
  });
});
