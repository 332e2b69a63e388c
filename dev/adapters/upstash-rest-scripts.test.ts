import { describe, expect, it } from "vitest";
import { ScriptRegistry, sha1Hex, stripUnsupportedShebang } from "./upstash-rest-scripts";

describe("stripUnsupportedShebang", () => {
  it("blanks a shebang whose only flag Redis does not know, keeping line numbers", () => {
    expect(stripUnsupportedShebang("#!lua flags=allow-key-locking\n  return 1\n")).toBe("\n  return 1\n");
  });
  it("keeps flags Redis knows", () => {
    expect(stripUnsupportedShebang("#!lua flags=allow-key-locking,no-writes\nreturn 1")).toBe("#!lua flags=no-writes\nreturn 1");
  });
  it("leaves scripts without a shebang or with only known flags untouched", () => {
    for (const s of ["return 1", "#!lua flags=no-writes\nreturn 1", "#!lua\nreturn 1"]) expect(stripUnsupportedShebang(s)).toBe(s);
  });
});

describe("ScriptRegistry", () => {
  const original = "#!lua flags=allow-key-locking\nreturn 1";
  const stripped = "\nreturn 1";

  it("translates EVALSHA of a learnt original sha to the rewritten script's sha", () => {
    const reg = new ScriptRegistry();
    expect(reg.translate(["EVALSHA", sha1Hex(original), "0"]).args).toEqual(["EVALSHA", sha1Hex(original), "0"]);
    expect(reg.translate(["EVAL", original, "0"]).args).toEqual(["EVAL", stripped, "0"]);
    expect(reg.translate(["EVALSHA", sha1Hex(original), "0"]).args).toEqual(["EVALSHA", sha1Hex(stripped), "0"]);
    expect(reg.translate(["SCRIPT", "EXISTS", sha1Hex(original), "abc"]).args).toEqual(["SCRIPT", "EXISTS", sha1Hex(stripped), "abc"]);
  });
  it("answers SCRIPT LOAD with the original's sha and forgets everything on SCRIPT FLUSH", () => {
    const reg = new ScriptRegistry();
    const load = reg.translate(["SCRIPT", "LOAD", original]);
    expect(load.args).toEqual(["SCRIPT", "LOAD", stripped]);
    expect(String(load.mapReply!(Buffer.from(sha1Hex(stripped))))).toBe(sha1Hex(original));
    reg.translate(["SCRIPT", "FLUSH"]).mapReply!("OK");
    expect(reg.translate(["EVALSHA", sha1Hex(original), "0"]).args[1]).toBe(sha1Hex(original));
  });
});
