import { describe, expect, it } from "vitest";
import { hasScope, isScope, SCOPES, ungrantableScopes } from "./scopes";

describe("scopes", () => {
  it("admin implies every scope; any other scope only itself", () => {
    for (const s of SCOPES) expect(hasScope(["admin"], s)).toBe(true);
    expect(hasScope(["batches:read"], "batches:read")).toBe(true);
    expect(hasScope(["batches:read"], "batches:write")).toBe(false);
    expect(hasScope(["batches:write"], "admin")).toBe(false);
    expect(hasScope([], "batches:read")).toBe(false);
    expect(hasScope(["ADMIN", "batches:*", "*"], "batches:read")).toBe(false);
    expect(isScope("batches:read")).toBe(true);
    expect(isScope("batches:*")).toBe(false);
  });

  it("a key grants only scopes it holds", () => {
    expect(ungrantableScopes(["admin"], [...SCOPES])).toEqual([]);
    expect(ungrantableScopes(["batches:read", "batches:write"], ["batches:read", "suppressions:write", "admin"])).toEqual(["suppressions:write", "admin"]);
    expect(ungrantableScopes([], ["batches:read"])).toEqual(["batches:read"]);
  });
});
