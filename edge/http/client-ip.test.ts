import { describe, expect, it } from "vitest";
import { NO_IP, rateLimitIdentifier } from "./client-ip";

describe("rateLimitIdentifier", () => {
  it("counts IPv4 per address and IPv6 per /64, however the address is spelled", () => {
    expect(rateLimitIdentifier("203.0.113.7")).toBe("203.0.113.7");
    expect(rateLimitIdentifier(" 203.0.113.7 ")).toBe("203.0.113.7");
    expect(rateLimitIdentifier("2001:db8:a:b:1:2:3:4")).toBe("2001:db8:a:b::/64");
    expect(rateLimitIdentifier("2001:0DB8:000A:000B::ffff")).toBe("2001:db8:a:b::/64");
    expect(rateLimitIdentifier("2001:db8:a:c::1")).toBe("2001:db8:a:c::/64");
    expect(rateLimitIdentifier("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("puts a missing or unparsable header in one shared bucket", () => {
    for (const bad of [undefined, "", "garbage", "1.2.3", "10.0.0.1, 10.0.0.2", "203.0.113.999"]) expect(rateLimitIdentifier(bad), String(bad)).toBe(NO_IP);
  });
});
