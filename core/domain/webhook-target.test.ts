import { describe, expect, it } from "vitest";
import { webhookPortProblem, webhookTargetProblem } from "./webhook-target";

describe("webhook target rules (shared by edge and consumers)", () => {
  it("accepts public http(s) targets on 80, 443 and unprivileged ports", () => {
    for (const u of ["https://hooks.example.com/x", "http://example.com:8080/a?b=1", "https://[2606:4700:4700::1111]/", "https://8.8.8.8:8443/"]) {
      expect(webhookTargetProblem(u), u).toBeUndefined();
    }
  });

  it("refuses other schemes, privileged and internal-service ports, and internal literal addresses", () => {
    expect(webhookTargetProblem("ftp://example.com/")).toMatch(/scheme/);
    expect(webhookTargetProblem("not a url")).toMatch(/invalid URL/);
    expect(webhookTargetProblem("http://example.com:22/")).toMatch(/port 22/);
    expect(webhookTargetProblem("http://example.com:6379/")).toMatch(/Redis/);
    expect(webhookTargetProblem("http://[::127.0.0.1]/")).toMatch(/not a public address/);
    expect(webhookTargetProblem("http://0x7f.1/")).toMatch(/not a public address/);
    expect(webhookTargetProblem("http://[64:ff9b::a00:1]/")).toMatch(/not a public address/);
    expect(webhookPortProblem(65535)).toBeUndefined();
  });

  it("lets allow-listed hosts (local tests) through", () => {
    expect(webhookTargetProblem("http://127.0.0.1:5432/", ["127.0.0.1"])).toBeUndefined();
  });
});
