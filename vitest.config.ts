import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Two projects:
 * - `workers`: tests inside the real Workers runtime (workerd) with real D1, R2 and Durable Objects;
 * - `node`: end-to-end tests from Node over real WebSockets against `wrangler dev`, which each
 *   test file starts itself on 127.0.0.1 and stops.
 */
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            main: "./src/worker/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
                AUTH_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
                METRICS_TOKEN: "test-metrics-token",
                // Small caps so the limit tests stay small; the rest keep their defaults.
                MAX_SOCKETS_PER_SESSION: "12",
                MAX_OUTBOUND_FRAME_BYTES: "32768",
                HANDLER_TIMEOUT_MS: "3000",
                REPLAY_MAX_EVENTS: "50",
                // Local runs create sessions without a secret, and every test shares one address:
                // the abuse tests turn the /auth limits on with their own env (abuse-auth.test.ts).
                SESSION_CREATION: "open",
                AUTH_RATE_LIMITS: "off",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          setupFiles: ["./test/workers/apply-migrations.ts"],
          testTimeout: 30_000,
          // The per-request log lines are for `wrangler tail`; show output of failing tests only.
          silent: "passed-only",
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
