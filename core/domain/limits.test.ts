import { describe, expect, it } from "vitest";
import { jsonDepth, LIMITS, renderedEmailProblem, renderedSmsProblem, smsSegments, variablesProblem } from "./limits";

describe("caps", () => {
  it("measures JSON depth", () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({ a: 1 })).toBe(1);
    expect(jsonDepth({ a: { b: [1] } })).toBe(3);
  });

  it("refuses variables that are too deep or too large, and accepts ordinary ones", () => {
    expect(variablesProblem({ name: "Ada", plan: { tier: "pro" } })).toBeUndefined();
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < LIMITS.variablesDepth + 1; i++) deep = { d: deep };
    expect(variablesProblem(deep)).toMatch(/nested more than/);
    expect(variablesProblem({ blob: "x".repeat(LIMITS.variablesBytes) })).toMatch(/bytes serialized/);
    expect(variablesProblem([1, 2])).toMatch(/JSON object/);
  });

  it("refuses absurdly deep variables without overflowing the stack (no 5xx at the edge, no crash in a consumer)", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(variablesProblem({ d: deep })).toMatch(/nested more than/);
    expect(jsonDepth({ d: deep }, 3)).toBeGreaterThan(3);
  });

  it("counts SMS segments per encoding, GSM-7 escapes twice", () => {
    expect(smsSegments("Hello")).toEqual({ encoding: "GSM-7", segments: 1, characters: 5 });
    expect(smsSegments("x".repeat(161)).segments).toBe(2);
    expect(smsSegments("{".repeat(80))).toMatchObject({ encoding: "GSM-7", characters: 160, segments: 1 });
    expect(smsSegments("héllo 😀").encoding).toBe("UCS-2");
    expect(renderedSmsProblem("x".repeat(153 * 10))).toBeUndefined();
    expect(renderedSmsProblem("x".repeat(153 * 10 + 1))).toMatch(/11 GSM-7 segments/);
  });

  it("refuses a rendered email over the provider limits", () => {
    expect(renderedEmailProblem({ subject: "Hi", text: "Hello" })).toBeUndefined();
    expect(renderedEmailProblem({ subject: "s".repeat(999) })).toMatch(/subject/);
    expect(renderedEmailProblem({ subject: "Hi", html: "x".repeat(3 * 1024 * 1024) })).toMatch(/rendered email is/);
    expect(renderedEmailProblem({ subject: "Hi", headers: { "X-A": "v".repeat(871) } })).toMatch(/X-A/);
  });
});
