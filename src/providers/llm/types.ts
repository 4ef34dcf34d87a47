import type { LlmProviderName } from "./names";

export type { LlmProviderName };

/** What every LLM provider offers: one chat completion, streamed as text deltas. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface LlmRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  /**
   * Who answers and to what, in plain terms: the offline provider voices its answer from these
   * (real models read the messages).
   */
  persona: { name: string; description: string; words: string };
}

export interface LlmProvider {
  readonly name: LlmProviderName;
  readonly model: string;
  /** One try: the answer's text deltas; throws ProviderError (or aborts with the signal). */
  stream(request: LlmRequest, signal: AbortSignal): AsyncIterable<string>;
}
