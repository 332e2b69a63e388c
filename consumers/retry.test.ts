import net from "node:net";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { BucketStoreUnavailableError } from "./ratelimit/interface";
import { backoffMs, isInfrastructureError, retryWhileInfraDown } from "./retry";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });
const named = (name: string) => Object.assign(new Error(name), { name });
const silent = { warn: () => {} };

describe("isInfrastructureError", () => {
  it("recognises pg SQLSTATE classes 08, 53 and 57P", () => {
    for (const code of ["08006", "08001", "08003", "53300", "53100", "57P01", "57P02", "57P03"]) expect(isInfrastructureError(withCode(code)), code).toBe(true);
  });

  it("does not treat statement errors as infrastructure", () => {
    for (const code of ["23505", "22P02", "42P01", "40001", "57014"]) expect(isInfrastructureError(withCode(code)), code).toBe(false);
    expect(isInfrastructureError(new Error("invalid input syntax for type uuid"))).toBe(false);
    expect(isInfrastructureError(new TypeError("cannot read properties of undefined"))).toBe(false);
    expect(isInfrastructureError(undefined)).toBe(false);
    expect(isInfrastructureError("ECONNRESET")).toBe(false);
  });

  it("recognises socket errors, pg-pool and pg client connection errors, also as a cause", () => {
    for (const code of ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT"]) expect(isInfrastructureError(withCode(code)), code).toBe(true);
    expect(isInfrastructureError(new Error("timeout exceeded when trying to connect"))).toBe(true);
    expect(isInfrastructureError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isInfrastructureError(new Error("Query read timeout"))).toBe(true);
    expect(isInfrastructureError(new Error("wrapped", { cause: withCode("ECONNREFUSED") }))).toBe(true);
    expect(isInfrastructureError(new AggregateError([withCode("ECONNREFUSED")], "all failed"))).toBe(true);
  });

  it("recognises NATS connection and timeout errors and an unavailable bucket store", () => {
    for (const name of ["ConnectionError", "ClosedConnectionError", "TimeoutError", "NoResponders"]) expect(isInfrastructureError(named(name)), name).toBe(true);
    expect(isInfrastructureError(named("InvalidSubjectError"))).toBe(false);
    expect(isInfrastructureError(new BucketStoreUnavailableError(new Error("connect ECONNREFUSED")))).toBe(true);
  });

  it("classifies what real pg raises against a closed port and a server that hangs up", async () => {
    const srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    const hangup = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x`, max: 1 });
    const e1 = await hangup.query("select 1").catch((e: unknown) => e);
    expect(isInfrastructureError(e1)).toBe(true);
    await hangup.end();
    await new Promise<void>((r) => srv.close(() => r()));
    const refused = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x`, max: 1 });
    const e2 = await refused.query("select 1").catch((e: unknown) => e);
    expect(isInfrastructureError(e2)).toBe(true);
    await refused.end();
  });
});

describe("backoffMs", () => {
  it("grows exponentially with half jitter, is capped, and honours retry-after", () => {
    for (let i = 0; i < 50; i++) {
      const v = backoffMs(2, { baseMs: 1000 });
      expect(v).toBeGreaterThanOrEqual(2000);
      expect(v).toBeLessThanOrEqual(4000);
      expect(backoffMs(30, { baseMs: 1000, capMs: 5000 })).toBeLessThanOrEqual(5000);
    }
    expect(backoffMs(0, { retryAfterMs: 10_000 })).toBe(10_000);
  });
});

describe("retryWhileInfraDown", () => {
  it("retries infrastructure errors until the call succeeds, and rethrows other errors at once", async () => {
    let calls = 0;
    const v = await retryWhileInfraDown(
      async () => {
        if (++calls < 3) throw withCode("ECONNREFUSED");
        return "ok";
      },
      { what: "test", log: silent, capMs: 5 },
    );
    expect([v, calls]).toEqual(["ok", 3]);
    calls = 0;
    await expect(
      retryWhileInfraDown(
        async () => {
          calls++;
          throw withCode("23505", "duplicate key");
        },
        { what: "test", log: silent, capMs: 5 },
      ),
    ).rejects.toThrow("duplicate key");
    expect(calls).toBe(1);
  });
});
