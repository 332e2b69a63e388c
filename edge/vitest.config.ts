/**
 * Worker tests inside workerd (@cloudflare/vitest-pool-workers 0.15 + vitest 4: the `cloudflareTest` plugin).
 * Bindings come from ../wrangler.toml, with every URL replaced by the test profile's local services
 * (dev/config.ts), which `npm test` starts before vitest. The IP limit is small so the limiter test can
 * exhaust it; every other request in the tests comes from its own random CF-Connecting-IP.
 */
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";
import { edgeLocalBindings, localUrls } from "../dev/config";

const urls = localUrls("test");
const TEST_IP_RATE_LIMIT = 5;

export default defineProject({
  plugins: [
    cloudflareTest({
      main: fileURLToPath(new URL("./worker.ts", import.meta.url)),
      wrangler: { configPath: fileURLToPath(new URL("../wrangler.toml", import.meta.url)) },
      miniflare: {
        bindings: {
          ENVIRONMENT: "test",
          ...edgeLocalBindings(urls),
          IP_RATE_LIMIT: String(TEST_IP_RATE_LIMIT),
          IP_RATE_WINDOW: "60 s",
          KEY_RATE_LIMIT: "10000",
          KEY_RATE_WINDOW: "60 s",
          // Closed in tests: a broken limiter store fails loudly instead of silently letting everything pass.
          RATE_LIMIT_FAILURE_POLICY: "closed",
          RATE_LIMIT_TIMEOUT_MS: "2000",
          // Not a Worker setting: where the failover tests find the sandbox's Cloudflare API, regions and alert sink.
          TEST_SANDBOX_URL: urls.sandboxUrl,
          // Not Worker settings either: the fuzzer's seed (to reproduce a failure), cases per endpoint, parallel requests.
          FUZZ_SEED: process.env.FUZZ_SEED ?? "",
          FUZZ_RUNS: process.env.FUZZ_RUNS ?? "",
          FUZZ_CONCURRENCY: process.env.FUZZ_CONCURRENCY ?? "",
          FUZZ_ONLY: process.env.FUZZ_ONLY ?? "",
        },
      },
    }),
  ],
  test: {
    name: "worker",
    include: ["**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
