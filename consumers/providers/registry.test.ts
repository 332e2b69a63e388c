import { describe, expect, it } from "vitest";
import { importSealingKey, openSecret, sealSecret } from "../../core/domain/crypto";
import { parseConfig } from "../config";
import type { ProviderClient } from "./interface";
import { createProviderRegistry, ProviderConfigError } from "./registry";

const KEY = Buffer.alloc(32, 7).toString("base64");
const OTHER = Buffer.alloc(32, 9).toString("base64");

describe("AES-256-GCM sealing", () => {
  it("round-trips and refuses the wrong key or key id", async () => {
    const k = await importSealingKey(KEY);
    const sealed = await sealSecret("s3cret", k, "k1");
    expect(await openSecret(sealed, k, "k1")).toBe("s3cret");
    await expect(openSecret(sealed, await importSealingKey(OTHER), "k1")).rejects.toThrow(/authenticate/);
    await expect(openSecret(sealed, k, "k2")).rejects.toThrow(/authenticate/);
    await expect(importSealingKey(Buffer.alloc(16).toString("base64"))).rejects.toThrow(/32 bytes/);
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
  const row = { id: "c1", mode: "managed" as const, provider: "resend" as const, credentials_ciphertext: null, credentials_key_id: null, updated_at: new Date(0) };

  it("gives managed configs the platform client", async () => {
    expect(await registry.clientFor(row)).toBe(managed.resend);
  });

  it("opens BYOK credentials and caches the client per config version", async () => {
    const sealed = await sealSecret(JSON.stringify({ apiKey: "re_byok" }), await importSealingKey(KEY), "k1");
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
    const sealed = await sealSecret("{}", await importSealingKey(KEY), "k1");
    await expect(registry.clientFor({ ...row, id: "c2", mode: "byok", credentials_ciphertext: sealed, credentials_key_id: "k1" })).rejects.toBeInstanceOf(ProviderConfigError);
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
