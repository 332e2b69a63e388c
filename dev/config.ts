/**
 * The local stack's fixed layout: ports, databases and sandbox credentials for `npm start` (profile "dev")
 * and `npm test` (profile "test", every port +10000, its own database), so both can run side by side.
 * Nothing here is used in production; production gets the same variables from wrangler secrets and k8s.
 */
export type Profile = "dev" | "test";

export interface StackPorts {
  edge: number;
  sandbox: number;
  neonProxy: number;
  upstash: number;
  natsClient: number;
  natsWebSocket: number;
  natsMonitor: number;
  clickhouse: number;
  consumerFalkenstein: number;
  consumerAshburn: number;
}

const devPorts: StackPorts = {
  edge: 8787,
  sandbox: 8789,
  neonProxy: 5488,
  upstash: 8079,
  natsClient: 4223,
  natsWebSocket: 4280,
  natsMonitor: 8223,
  clickhouse: 8124,
  consumerFalkenstein: 9101,
  consumerAshburn: 9102,
};

/**
 * Several checkouts of the repository on one machine (git worktrees) can each run `npm test` at once:
 * `BATCHSENDER_TEST_INSTANCE=N` (0–9, default 0) moves the test profile's ports by a further 200·N and gives
 * it its own database and Redis database. No two ports of two instances coincide (no two dev ports differ
 * by a multiple of 200).
 */
export function testInstance(env: Record<string, string | undefined> = process.env): number {
  const raw = env.BATCHSENDER_TEST_INSTANCE ?? "";
  if (raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 9) throw new Error(`BATCHSENDER_TEST_INSTANCE must be an integer 0–9, got ${raw}`);
  return n;
}

export function portsFor(profile: Profile): StackPorts {
  if (profile === "dev") return devPorts;
  const shift = 10000 + 200 * testInstance();
  return Object.fromEntries(Object.entries(devPorts).map(([k, v]) => [k, v + shift])) as unknown as StackPorts;
}

export const HOST = "127.0.0.1";

export function databaseNameFor(profile: Profile): string {
  if (profile === "dev") return "batchsender";
  const n = testInstance();
  return n === 0 ? "batchsender_test" : `batchsender_test_${n}`;
}

/** Token the local Upstash-REST adapter accepts (Upstash's own scheme: `Authorization: Bearer <token>`). */
export const LOCAL_UPSTASH_TOKEN = "local-upstash-token";

/**
 * Credentials the provider sandbox accepts, and that the consumers use for the managed provider accounts
 * locally. The sandbox verifies real SigV4 signatures and bearer keys against these.
 */
export const sandboxCredentials = {
  ses: { accessKeyId: "AKIASANDBOXMANAGED01", secretAccessKey: "sandbox/ses/managed/secret/key/0000000001", region: "eu-central-1" },
  resend: { apiKey: "re_sandbox_managed_key_0001" },
  telnyx: { apiKey: "KEYSANDBOXMANAGED0001", messagingProfileId: "40017a5e-0000-4000-8000-sandbox00001" },
} as const;

/**
 * How the sandbox signs the provider webhooks it emits, and what the local edge verifies them with. Fixed, so
 * `wrangler dev`, the worker tests and the sandbox agree without a handshake. The SNS certificate is not here:
 * the sandbox makes one at start and serves it, and the edge fetches it (only from 127.0.0.1 locally).
 */
export const sandboxWebhookKeys = {
  snsTopicArn: "arn:aws:sns:eu-central-1:000000000000:batchsender-sandbox-ses-events",
  // No backslashes: the pattern travels through a dotenv file (dev/stack.ts edgeEnvFile).
  snsCertHostPattern: "^127[.]0[.]0[.]1$",
  svixSecret: "whsec_anTVp6ulaL0vLVOrbdADzDIV3obH8FQB",
  telnyxPrivateKeyPkcs8: "MC4CAQAwBQYDK2VwBCIEINBTscVnUW7M6cOplEJK6iLgc4TEs6tZID/ZdUOxn2f9",
  telnyxPublicKey: "jMg853XwNxIiOzLLBmM4lhpvEhvBR0ESzYg1+MMffqs=",
} as const;

/** Key that seals BYOK credentials locally (AES-256-GCM, base64 of 32 bytes). Production uses a secret. */
export const LOCAL_ENCRYPTION_KEY = { id: "local-1", key: "bG9jYWwtZGV2LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=" };

export function redisDbFor(profile: Profile): number {
  return profile === "dev" ? 0 : 1 + testInstance();
}

export function localUrls(profile: Profile) {
  return urlsFor(portsFor(profile), databaseNameFor(profile), redisDbFor(profile));
}

/** The URLs of a stack laid out on `p` (localUrls for a profile; a test may lay out a second stack). */
export function urlsFor(p: StackPorts, databaseName: string, redisDb: number) {
  return {
    databaseUrl: `postgres://postgres@${HOST}:5432/${databaseName}`,
    redisUrl: `redis://${HOST}:6379/${redisDb}`,
    natsUrl: `nats://${HOST}:${p.natsClient}`,
    natsWsUrl: `ws://${HOST}:${p.natsWebSocket}`,
    neonWsProxy: `${HOST}:${p.neonProxy}/v2`,
    upstashUrl: `http://${HOST}:${p.upstash}`,
    sandboxUrl: `http://${HOST}:${p.sandbox}`,
    edgeUrl: `http://${HOST}:${p.edge}`,
    clickhouseUrl: `http://${HOST}:${p.clickhouse}`,
  };
}

/** The managed provider accounts (all in the sandbox) and the BYOK sealing keys: consumers and edge alike. */
export function managedAccountEnv(urls: ReturnType<typeof localUrls>): Record<string, string> {
  return {
    SES_ENDPOINT: urls.sandboxUrl,
    SES_REGION: sandboxCredentials.ses.region,
    SES_ACCESS_KEY_ID: sandboxCredentials.ses.accessKeyId,
    SES_SECRET_ACCESS_KEY: sandboxCredentials.ses.secretAccessKey,
    RESEND_API_URL: urls.sandboxUrl,
    RESEND_API_KEY: sandboxCredentials.resend.apiKey,
    TELNYX_API_URL: urls.sandboxUrl,
    TELNYX_API_KEY: sandboxCredentials.telnyx.apiKey,
    ENCRYPTION_KEYS: JSON.stringify({ [LOCAL_ENCRYPTION_KEY.id]: LOCAL_ENCRYPTION_KEY.key }),
  };
}

/**
 * The edge's connection bindings on the local stack: the same names production sets as wrangler secrets,
 * pointing at the local adapters. Used by `wrangler dev` (dev/stack.ts) and the worker tests alike.
 */
export function edgeLocalBindings(urls: ReturnType<typeof localUrls>): Record<string, string> {
  return {
    DATABASE_URL: urls.databaseUrl,
    NEON_WS_PROXY: urls.neonWsProxy,
    UPSTASH_REDIS_REST_URL: urls.upstashUrl,
    UPSTASH_REDIS_REST_TOKEN: LOCAL_UPSTASH_TOKEN,
    NATS_WS_URL_FALKENSTEIN: urls.natsWsUrl,
    NATS_WS_URL_ASHBURN: urls.natsWsUrl,
    // The account routes (domain identities) reach the managed accounts through the sandbox too.
    ...managedAccountEnv(urls),
    SNS_TOPIC_ARNS: sandboxWebhookKeys.snsTopicArn,
    SNS_CERT_HOST_PATTERN: sandboxWebhookKeys.snsCertHostPattern,
    SNS_CERT_ALLOW_HTTP: "true",
    RESEND_WEBHOOK_SECRETS: sandboxWebhookKeys.svixSecret,
    TELNYX_PUBLIC_KEY: sandboxWebhookKeys.telnyxPublicKey,
    ENCRYPTION_KEYS: JSON.stringify({ [LOCAL_ENCRYPTION_KEY.id]: LOCAL_ENCRYPTION_KEY.key }),
    ENCRYPTION_KEY_ID: LOCAL_ENCRYPTION_KEY.id,
    // Locally a developer receives customer webhooks on this machine (issue 9 item 8); production allows none.
    WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
  };
}
