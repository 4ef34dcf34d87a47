import { ProviderError } from "../resilience";
import { sseData } from "./sse";
import type { LlmProvider, LlmRequest } from "./types";

/** The `[ai]` binding's shape (only `run` is used), so tests pass a fake object. */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

/**
 * Cloudflare Workers AI through its binding: `run(model, {messages, stream: true})` answers a
 * ReadableStream of Server-Sent Events whose JSON carries `response`, ending with `[DONE]`.
 * The binding exists in the deployed configuration only ([env.production] in wrangler.toml).
 */
export function workersAiProvider(ai: AiBinding, model: string): LlmProvider {
  return {
    name: "workers-ai",
    model,
    async *stream(req: LlmRequest, signal: AbortSignal) {
      let out: unknown;
      try {
        out = await ai.run(model, { messages: req.messages, stream: true, max_tokens: req.maxTokens, temperature: req.temperature }, { signal });
      } catch (err) {
        throw new ProviderError(`Workers AI refused: ${err instanceof Error ? err.message : String(err)}`, { retryable: true });
      }
      if (!(out instanceof ReadableStream)) {
        // A binding that does not stream answers the whole text at once.
        const text = (out as { response?: unknown } | null)?.response;
        if (typeof text !== "string") throw new ProviderError("Workers AI answered no text", { retryable: true });
        yield text;
        return;
      }
      const end = { sawDone: false };
      for await (const data of sseData(out as ReadableStream<Uint8Array>, end)) {
        let chunk: { response?: string };
        try {
          chunk = JSON.parse(data);
        } catch {
          throw new ProviderError(`Workers AI sent an event that is not JSON: ${data.slice(0, 80)}`, { retryable: true });
        }
        if (chunk.response) yield chunk.response;
      }
      if (!end.sawDone) throw new ProviderError("the Workers AI stream ended before [DONE]", { retryable: true });
    },
  };
}
