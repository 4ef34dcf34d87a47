import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { ensureWebBuild } from "./scripts/web-build.ts";

// The Worker's [assets] directory must exist before the pool starts (see scripts/web-build.ts).
ensureWebBuild();

/**
 * Three projects:
 * - `workers`: tests inside the real Workers runtime (workerd) with real D1, R2 and Durable Objects;
 * - `node`: end-to-end tests from Node over real WebSockets against `wrangler dev`, which each
 *   test file starts itself on 127.0.0.1 and stops;
 * - `browser`: the web client in a real headless Chromium (Playwright), against its own engine.
 * The Worker serves dist/web as static assets: `npm test` builds it first; a missing build is
 * made here (the pool refuses to start without it).
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
                // Dialogue tests answer the provider's fetch themselves (vi.spyOn(globalThis, "fetch")),
                // with short timeouts so failures show quickly (test/workers/dialogue*.test.ts).
                LLM_PROVIDER: "openai",
                LLM_BASE_URL: "http://llm.test/v1",
                LLM_MODEL: "test-model",
                LLM_FIRST_TOKEN_TIMEOUT_MS: "400",
                LLM_TOTAL_TIMEOUT_MS: "4000",
                LLM_RETRY_BASE_MS: "20",
                LLM_RETRY_MAX_MS: "100",
                LLM_BREAKER_FAILURES: "3",
                LLM_BREAKER_COOLDOWN_MS: "600",
                // Small dialogue budgets, so the budget test stays small (test/workers/dialogue.test.ts).
                DIALOGUE_CALLS_PER_MINUTE: "6",
                DIALOGUE_SESSION_CALLS_PER_MINUTE: "9",
                DIALOGUE_MAX_CONCURRENT: "2",
                DIALOGUE_SESSION_MAX_CONCURRENT: "3",
                // Image generation polls its provider often, so the generation tests stay quick.
                GENERATION_POLL_MS: "20",
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
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          // After the other projects, not beside the node tests' engines (2 CPUs, wrangler starts).
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
