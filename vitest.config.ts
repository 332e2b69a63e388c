import { defineConfig } from "vitest/config";

/**
 * Three tiers (CONVENTIONS 12):
 * - unit: `*.test.ts` beside the code in core/, consumers/, dev/ — no services;
 * - integration: `*.int.test.ts` anywhere and everything in test/ — real Postgres, Redis, NATS, the sandbox
 *   and the edge in workerd, brought up by `npm test` (dev/run-tests.mjs) before vitest starts;
 * - worker: edge/**\/*.test.ts inside workerd via @cloudflare/vitest-pool-workers (edge/vitest.config.ts).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["core/**/*.test.ts", "consumers/**/*.test.ts", "dev/**/*.test.ts", "bench/**/*.test.ts", "k8s/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["**/*.int.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**", ".data/**"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration files share the machine's 2 cores and services; keep them from starving each other.
          fileParallelism: false,
        },
      },
      "edge/vitest.config.ts",
    ],
  },
});
