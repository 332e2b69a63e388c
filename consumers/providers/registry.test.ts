import { describe, expect, it } from "vitest";
import { importSealingKey, openSecret, sealSecret } from "../../core/domain/crypto";
import { parseConfig } from "../config";
import type { ProviderClient } from "./interface";
import { createProviderRegistry, ProviderConfigError } from "./registry";

const KEY = Buffer.alloc(32, 7).toString("base64");
const OTHER = Buffer.alloc(32, 9).toString("base64");

const BIND = { tenantId: "t1", configId: "c1", provider: "resend" };

describe("AES-256-GCM sealing", () => {
  it("round-trips and refuses the wrong key or key id", async () => {
    const k = await importSealingKey(KEY);
    const sealed = await sealSecret("s3cret", k, "k1", BIND);
    expect(await openSecret(sealed, k, "k1", BIND)).toBe("s3cret");
    await expect(openSecret(sealed, await importSealingKey(OTHER), "k1", BIND)).rejects.toThrow(/authenticate/);
    await expect(openSecret(sealed, k, "k2", BIND)).rejects.toThrow(/authenticate/);
    await expect(importSealingKey(Buffer.alloc(16).toString("base64"))).rejects.toThrow(/32 bytes/);
  });

  it("binds tenant, config and provider: a ciphertext moved to another row does not open", async () => {
    const k = await importSealingKey(KEY);
    const sealed = await sealSecret("s3cret", k, "k1", BIND);
    await expect(openSecret(sealed, k, "k1", { ...BIND, tenantId: "t2" })).rejects.toThrow(/authenticate/);
    await expect(openSecret(sealed, k, "k1", { ...BIND, configId: "c2" })).rejects.toThrow(/authenticate/);
    await expect(openSecret(sealed, k, "k1", { ...BIND, provider: "ses" })).rejects.toThrow(/authenticate/);
    // No ambiguity through the separator.
    await expect(sealSecret("x", k, "k1", { ...BIND, configId: "c1|resend" })).rejects.toThrow(/binding/);
  });
});

describe("provider registry", () => {
  const fake = (provider: ProviderClient["provider"]): ProviderClient => ({ provider, maxPerCall: 1, send: async () => [] });
  const managed = { ses: fake("ses"), resend: fake("resend"), telnyx: fake("telnyx"), webhook: fake("webhook") };
  const registry = createProviderRegistry({
    managed,
    endpoints: { sesRegion: "eu-central-1", resendApiUrl: "http://127.0.0.1:1", telnyxApiUrl: "http://127.0.0.1:1" },
    encryptionKeys: { k1: KEY },
  });
  const row = {
    id: "c1",
    tenant_id: "t1",
    mode: "managed" as const,
    provider: "resend" as const,
    credentials_ciphertext: null,
    credentials_key_id: null,
    updated_at: new Date(0),
  };
  const seal = async (plain: unknown, r: { id: string; tenant_id: string; provider: string } = row) =>
    sealSecret(JSON.stringify(plain), await importSealingKey(KEY), "k1", { tenantId: r.tenant_id, configId: r.id, provider: r.provider });

  it("gives managed configs the platform client", async () => {
    expect(await registry.clientFor(row)).toBe(managed.resend);
  });

  it("opens BYOK credentials and caches the client per config version", async () => {
    const sealed = await seal({ apiKey: "re_byok" });
    const byok = { ...row, mode: "byok" as const, credentials_ciphertext: sealed, credentials_key_id: "k1" };
    const c = await registry.clientFor(byok);
    expect(c).not.toBe(managed.resend);
    expect(c.provider).toBe("resend");
    expect(await registry.clientFor(byok)).toBe(c);
    expect(await registry.clientFor({ ...byok, updated_at: new Date(1) })).not.toBe(c);
  });

  it("fails BYOK configs with missing keys or broken credentials, non-retryably", async () => {
    await expect(registry.clientFor({ ...row, id: "c3", mode: "byok" })).rejects.toBeInstanceOf(ProviderConfigError);
    await expect(registry.clientFor({ ...row, id: "c4", mode: "byok", credentials_ciphertext: "AAAA", credentials_key_id: "nope" })).rejects.toThrow(/unknown encryption key/);
    const sealed = await seal({}, { ...row, id: "c2" });
    await expect(registry.clientFor({ ...row, id: "c2", mode: "byok", credentials_ciphertext: sealed, credentials_key_id: "k1" })).rejects.toBeInstanceOf(ProviderConfigError);
  });

  it("refuses credentials copied from another config or tenant", async () => {
    const sealed = await seal({ apiKey: "re_victim" }, { ...row, id: "victim" });
    const thief = { ...row, id: "thief", mode: "byok" as const, credentials_ciphertext: sealed, credentials_key_id: "k1" };
    await expect(registry.clientFor(thief)).rejects.toThrow(/cannot be opened/);
    const otherTenant = { ...thief, id: "victim", tenant_id: "t2" };
    await expect(registry.clientFor(otherTenant)).rejects.toThrow(/cannot be opened/);
  });

  it("validates the BYOK SES region before it becomes a host name", async () => {
    const ses = { ...row, provider: "ses" as const, mode: "byok" as const, credentials_key_id: "k1" };
    const creds = { accessKeyId: "AKIA", secretAccessKey: "s" };
    for (const [i, region] of ["evil.example.com/x", "us-east-1.attacker.net#", "US-EAST-1", "eu-central-1a", "127.0.0.1"].entries()) {
      const r = { ...ses, id: `bad-region-${i}` };
      await expect(registry.clientFor({ ...r, credentials_ciphertext: await seal({ ...creds, region }, r) })).rejects.toThrow(/region/);
    }
    for (const [i, region] of ["eu-central-1", "us-gov-west-1", "ap-southeast-2"].entries()) {
      const r = { ...ses, id: `good-region-${i}` };
      expect((await registry.clientFor({ ...r, credentials_ciphertext: await seal({ ...creds, region }, r) })).provider).toBe("ses");
    }
  });

  it("bounds the BYOK client cache: a new version replaces the old one, least recently used and expired entries go", async () => {
    let now = 1_000_000; // lru-cache treats a start time of 0 as "no TTL"
    const small = createProviderRegistry({
      managed,
      endpoints: { sesRegion: "eu-central-1", resendApiUrl: "http://127.0.0.1:1", telnyxApiUrl: "http://127.0.0.1:1" },
      encryptionKeys: { k1: KEY },
      clientCache: { max: 2, ttlMs: 60_000, now: () => now },
    });
    const cfg = async (id: string, version = 0) => ({
      ...row,
      id,
      mode: "byok" as const,
      credentials_key_id: "k1",
      credentials_ciphertext: await seal({ apiKey: `re_${id}` }, { ...row, id }),
      updated_at: new Date(version),
    });
    const a = await cfg("a");
    const ca = await small.clientFor(a);
    await small.clientFor(await cfg("a", 1));
    expect(small.cachedClients()).toBe(1); // the stale version of "a" is gone, not kept beside the new one
    await small.clientFor(await cfg("b"));
    await small.clientFor(await cfg("c"));
    expect(small.cachedClients()).toBe(2);
    expect(await small.clientFor(a)).not.toBe(ca); // rebuilt: never served a stale version
    now += 61_000;
    expect(small.cachedClients()).toBe(0);
  });
});

describe("consumer config", () => {
  const env = {
    REGION: "falkenstein",
    DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x",
    REDIS_URL: "redis://127.0.0.1:6379/1",
    NATS_URL: "nats://127.0.0.1:4222",
    HTTP_PORT: "0",
    SES_REGION: "eu-central-1",
    SES_ACCESS_KEY_ID: "a",
    SES_SECRET_ACCESS_KEY: "b",
    RESEND_API_KEY: "re",
    TELNYX_API_KEY: "tx",
    TELNYX_MESSAGING_PROFILE_ID: "p",
    ENCRYPTION_KEYS: JSON.stringify({ k1: KEY }),
  };

  it("parses with defaults", () => {
    const c = parseConfig({ ...env, WEBHOOK_ALLOWED_HOSTS: "127.0.0.1, Localhost" });
    expect(c).toMatchObject({ RESEND_API_URL: "https://api.resend.com", SENDER_CONCURRENCY: 16, WEBHOOK_ALLOWED_HOSTS: ["127.0.0.1", "localhost"] });
    expect(c.ENCRYPTION_KEYS).toEqual({ k1: KEY });
  });

  it("reports every problem in one readable message", () => {
    expect(() => parseConfig({ ...env, REGION: "mars", ENCRYPTION_KEYS: "{oops", HTTP_PORT: undefined })).toThrow(
      /invalid consumer configuration: .*REGION.*ENCRYPTION_KEYS|invalid consumer configuration: .*REGION/,
    );
    try {
      parseConfig({ ...env, REGION: "mars", ENCRYPTION_KEYS: JSON.stringify({ k1: "short" }) });
    } catch (err) {
      expect((err as Error).message).toMatch(/REGION/);
      expect((err as Error).message).toMatch(/ENCRYPTION_KEYS\.k1: must be base64 of 32 bytes/);
    }
  });
});
