import { ProviderError, retryAfterMs, retryableStatus } from "../resilience";
import { sseData } from "./sse";
import type { LlmProvider, LlmRequest } from "./types";

/**
 * Any OpenAI-compatible `POST {base}/chat/completions` with `stream: true` (OpenAI, a local
 * llama.cpp / Ollama / vLLM server…), read as Server-Sent Events: each event's JSON carries
 * `choices[0].delta.content`; the stream ends with `data: [DONE]`. Plain fetch: the retry policy
 * is ours alone (resilience.ts).
 */
export function openAiProvider(cfg: { baseUrl: string; model: string; apiKey?: string }): LlmProvider {
  return {
    name: "openai",
    model: cfg.model,
    async *stream(req: LlmRequest, signal: AbortSignal) {
      const res = await fetch(`${cfg.baseUrl}/chat/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          ...(cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: cfg.model, messages: req.messages, stream: true, max_tokens: req.maxTokens, temperature: req.temperature }),
        signal,
      });
      if (!res.ok || !res.body) {
        const detail = (await res.text().catch(() => "")).slice(0, 200);
        throw new ProviderError(`answered ${res.status}${detail ? `: ${detail}` : ""}`, {
          status: res.status,
          retryable: retryableStatus(res.status),
          retryAfterMs: retryAfterMs(res.headers),
        });
      }
      const end = { sawDone: false };
      let finished = false;
      for await (const data of sseData(res.body, end)) {
        let chunk: { choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[]; error?: { message?: string } };
        try {
          chunk = JSON.parse(data);
        } catch {
          throw new ProviderError(`sent an event that is not JSON: ${data.slice(0, 80)}`, { retryable: true });
        }
        if (chunk.error) throw new ProviderError(`reported an error mid-stream: ${chunk.error.message ?? "unknown"}`, { retryable: true });
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) yield choice.delta.content;
        if (choice?.finish_reason) finished = true;
      }
      // A body that ends without [DONE] or a finish_reason was cut off.
      if (!end.sawDone && !finished) throw new ProviderError("the stream ended before [DONE]", { retryable: true });
    },
  };
}
