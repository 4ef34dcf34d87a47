import type { Env } from "../../env";
import { AppError } from "../../protocol";
import { breakerFor, resilientStream, type StreamResult } from "../resilience";
import { llmConfig, type LlmConfig } from "./config";
import { offlineProvider } from "./offline";
import { openAiProvider } from "./openai";
import type { LlmProvider, LlmRequest } from "./types";
import { workersAiProvider } from "./workers-ai";

export { llmConfig, LLM_PROVIDERS, DEFAULT_MODELS, type LlmConfig } from "./config";
export { offlineAnswer } from "./offline";
export type { ChatMessage, LlmProvider, LlmProviderName, LlmRequest } from "./types";

/** The provider LLM_PROVIDER names, or UNAVAILABLE saying what is missing. */
export function llmProvider(env: Env, cfg: LlmConfig = llmConfig(env)): LlmProvider {
  switch (cfg.provider) {
    case "offline":
      return offlineProvider();
    case "openai":
      return openAiProvider(cfg);
    case "workers-ai":
      if (!env.AI)
        throw new AppError("UNAVAILABLE", "LLM_PROVIDER is 'workers-ai' but the AI binding is missing (it exists in [env.production] only)", {
          reason: "llm_misconfigured",
        });
      return workersAiProvider(env.AI, cfg.model);
    default:
      throw new AppError("UNAVAILABLE", `LLM_PROVIDER '${cfg.requested}' is not one of offline, openai, workers-ai`, { reason: "llm_misconfigured" });
  }
}

/** The breaker of one session's LLM provider (see docs/dialogue.md: per session object). */
export function llmBreaker(env: Env, scope: string, cfg: LlmConfig = llmConfig(env)) {
  return breakerFor(`llm|${scope}|${cfg.provider}|${cfg.baseUrl}|${cfg.model}`, `LLM provider '${cfg.provider ?? cfg.requested}'`, cfg.policy);
}

/**
 * Throws UNAVAILABLE at once when the provider is misconfigured or its breaker is open: the
 * request that would start a generation gets the answer instead of a job bound to fail.
 */
export function checkLlmAvailable(env: Env, scope: string): void {
  const cfg = llmConfig(env);
  llmProvider(env, cfg);
  llmBreaker(env, scope, cfg).check();
}

/** One answer, streamed through `onDelta`, under the retry, timeout and breaker policy. */
export async function generate(
  env: Env,
  scope: string,
  request: Omit<LlmRequest, "maxTokens" | "temperature">,
  onDelta: (delta: string) => void,
  signal: AbortSignal,
  provider?: LlmProvider,
): Promise<StreamResult & { provider: string; model: string }> {
  const cfg = llmConfig(env);
  const p = provider ?? llmProvider(env, cfg);
  const full: LlmRequest = { ...request, maxTokens: cfg.maxTokens, temperature: cfg.temperature };
  const result = await resilientStream((s) => p.stream(full, s), onDelta, cfg.policy, llmBreaker(env, scope, cfg), signal);
  return { ...result, provider: p.name, model: p.model };
}
