/**
 * The platform's (managed) provider clients, built once from config, and the registry on top of them.
 * Called only by main.ts (the composition root).
 */
import type { ConsumerConfig } from "../config";
import { createProviderRegistry, type ProviderRegistry } from "./registry";
import { createResendClient } from "./resend";
import { createSesClient } from "./ses";
import { createTelnyxClient } from "./telnyx";
import { createWebhookClient } from "./webhook";

export function createRegistryFromConfig(config: ConsumerConfig): ProviderRegistry {
  return createProviderRegistry({
    managed: {
      ses: createSesClient({
        region: config.SES_REGION,
        accessKeyId: config.SES_ACCESS_KEY_ID,
        secretAccessKey: config.SES_SECRET_ACCESS_KEY,
        endpoint: config.SES_ENDPOINT,
      }),
      resend: createResendClient({ apiUrl: config.RESEND_API_URL, apiKey: config.RESEND_API_KEY }),
      telnyx: createTelnyxClient({
        apiUrl: config.TELNYX_API_URL,
        apiKey: config.TELNYX_API_KEY,
        messagingProfileId: config.TELNYX_MESSAGING_PROFILE_ID,
      }),
      webhook: createWebhookClient({ timeoutMs: config.WEBHOOK_TIMEOUT_MS, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS }),
    },
    endpoints: {
      sesEndpoint: config.SES_ENDPOINT,
      sesRegion: config.SES_REGION,
      resendApiUrl: config.RESEND_API_URL,
      telnyxApiUrl: config.TELNYX_API_URL,
    },
    encryptionKeys: config.ENCRYPTION_KEYS,
  });
}
