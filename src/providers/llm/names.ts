/** The providers LLM_PROVIDER may name, and their default models (no imports: scripts read it too). */
export type LlmProviderName = "openai" | "workers-ai" | "offline";

export const LLM_PROVIDERS: readonly LlmProviderName[] = ["offline", "openai", "workers-ai"];

export const DEFAULT_MODELS: Record<LlmProviderName, string> = {
  offline: "offline-echo",
  openai: "gpt-4o-mini",
  "workers-ai": "@cf/meta/llama-3.1-8b-instruct",
};
