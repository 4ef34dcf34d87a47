/**
 * The LLM settings of `npm start`: LLM_PROVIDER, LLM_BASE_URL, LLM_MODEL and the secret
 * LLM_API_KEY (plus the LLM_* tunables) from the environment, else from .dev.vars (which
 * wrangler reads itself). Values from the environment are passed to the Worker as vars.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MODELS, LLM_PROVIDERS } from "../src/providers/llm/names";

const KEY = /^(LLM_[A-Z_]+|DIALOGUE_[A-Z_]+)$/;

/** KEY="value" / KEY=value lines of a dotenv file. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!m) continue;
    out[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
  }
  return out;
}

export function llmVars(root: string, environment: NodeJS.ProcessEnv = process.env): { vars: Record<string, string>; summary: string } {
  const file = join(root, ".dev.vars");
  const devVars = existsSync(file) ? parseDotEnv(readFileSync(file, "utf8")) : {};
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(environment)) if (KEY.test(k) && v !== undefined && v !== "") vars[k] = v;
  const get = (k: string) => vars[k] ?? devVars[k];
  const provider = get("LLM_PROVIDER") || "offline";
  const from = (k: string) => (vars[k] ? "environment" : devVars[k] ? ".dev.vars" : "default");
  let summary: string;
  if (!(LLM_PROVIDERS as readonly string[]).includes(provider)) {
    summary = `LLM provider: '${provider}' is unknown (offline, openai, workers-ai): NPCs will not answer`;
  } else if (provider === "offline") {
    summary = "LLM provider: offline (a deterministic stand-in, no model; LLM_PROVIDER=openai LLM_BASE_URL=… to use one, docs/dialogue.md)";
  } else if (provider === "workers-ai") {
    summary = "LLM provider: workers-ai — its binding exists only when deployed ([env.production]); NPCs will not answer locally";
  } else {
    const base = get("LLM_BASE_URL") || "https://api.openai.com/v1";
    const model = get("LLM_MODEL") || DEFAULT_MODELS.openai;
    summary = `LLM provider: openai-compatible, model ${model} at ${base}/chat/completions (API key: ${get("LLM_API_KEY") ? `set, from ${from("LLM_API_KEY")}` : "none"}; provider from ${from("LLM_PROVIDER")})`;
  }
  return { vars, summary };
}
