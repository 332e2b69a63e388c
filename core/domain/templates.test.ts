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

  it("stops exponential growth through capture (not charged by liquidjs itself)", () => {
    const src = "{% capture s %}xxxxxxxxxx{% endcapture %}{% for i in (1..25) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}{{ s | size }}";
    let caught: unknown;
    try {
      renderTemplate("text", parseTemplate("text", src), {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    expect((caught as TemplateError).message).toMatch(/render limit exceeded/);
  });

  it("refuses a rendered output larger than the output cap before anything flattens it", () => {
    const blob = "y".repeat(16 * 1024);
    const parsed = parseTemplate("html", "{% for i in (1..200) %}{{ blob | raw }}{% endfor %}");
    expect(() => renderTemplate("html", parsed, { blob })).toThrow(/render limit exceeded \(the rendered output is \d+ characters/);
    expect(renderTemplate("html", parseTemplate("html", "{% for i in (1..10) %}{{ blob }}{% endfor %}"), { blob })).toHaveLength(10 * blob.length);
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
