import type { Env } from "../../env";
import type { ResiliencePolicy } from "../resilience";
import { DEFAULT_MODELS, LLM_PROVIDERS, type LlmProviderName } from "./names";

export { DEFAULT_MODELS, LLM_PROVIDERS };

const num = (v: string | undefined, d: number) => {
  const x = Number(v);
  return v !== undefined && v !== "" && Number.isFinite(x) && x >= 0 ? x : d;
};

/** The LLM settings of a deployment (docs/dialogue.md lists each with its default). */
export function llmConfig(env: Env) {
  const raw = (env.LLM_PROVIDER ?? "").trim() || "offline";
  const provider = (LLM_PROVIDERS as readonly string[]).includes(raw) ? (raw as LlmProviderName) : null;
  const policy: ResiliencePolicy = {
    firstTokenTimeoutMs: num(env.LLM_FIRST_TOKEN_TIMEOUT_MS, 20_000),
    totalTimeoutMs: num(env.LLM_TOTAL_TIMEOUT_MS, 120_000),
    maxRetries: num(env.LLM_MAX_RETRIES, 2),
    retryBaseMs: num(env.LLM_RETRY_BASE_MS, 500),
    retryMaxMs: num(env.LLM_RETRY_MAX_MS, 8_000),
    breakerFailures: num(env.LLM_BREAKER_FAILURES, 5),
    breakerCooldownMs: num(env.LLM_BREAKER_COOLDOWN_MS, 30_000),
  };
  return {
    /** Null when LLM_PROVIDER names no provider (dialogue then answers UNAVAILABLE, saying so). */
    provider,
    requested: raw,
    baseUrl: (env.LLM_BASE_URL ?? "").trim().replace(/\/+$/, "") || "https://api.openai.com/v1",
    model: (env.LLM_MODEL ?? "").trim() || (provider ? DEFAULT_MODELS[provider] : ""),
    apiKey: env.LLM_API_KEY || undefined,
    maxTokens: num(env.LLM_MAX_TOKENS, 400),
    temperature: num(env.LLM_TEMPERATURE, 0.8),
    /** Recent turns put in a dialogue prompt, counted at ~4 characters a token. */
    historyTokens: num(env.DIALOGUE_HISTORY_TOKENS, 1_500),
    policy,
  };
}
export type LlmConfig = ReturnType<typeof llmConfig>;
