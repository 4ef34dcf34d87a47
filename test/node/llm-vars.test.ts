/** `npm start`'s LLM settings: from the environment, else .dev.vars; the line it prints. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { llmVars, parseDotEnv } from "../../scripts/llm-vars";

const dirs: string[] = [];
const root = (devVars?: string) => {
  const dir = mkdtempSync(join(tmpdir(), "wb-llm-vars-"));
  dirs.push(dir);
  if (devVars !== undefined) writeFileSync(join(dir, ".dev.vars"), devVars);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("npm start's LLM settings", () => {
  it("defaults to the offline provider and says so", () => {
    const r = llmVars(root(), {});
    expect(r.vars).toEqual({});
    expect(r.summary).toMatch(/^LLM provider: offline/);
  });

  it("passes LLM_* from the environment to the Worker and names the provider, model, URL and where the key came from", () => {
    const r = llmVars(root('AUTH_SECRET="x"\n'), {
      LLM_PROVIDER: "openai",
      LLM_BASE_URL: "http://127.0.0.1:11434/v1",
      LLM_MODEL: "llama3.2",
      LLM_API_KEY: "k",
      PATH: "/bin",
      LLM_EMPTY: "",
    });
    expect(r.vars).toEqual({ LLM_PROVIDER: "openai", LLM_BASE_URL: "http://127.0.0.1:11434/v1", LLM_MODEL: "llama3.2", LLM_API_KEY: "k" });
    expect(r.summary).toBe(
      "LLM provider: openai-compatible, model llama3.2 at http://127.0.0.1:11434/v1/chat/completions (API key: set, from environment; provider from environment)",
    );
  });

  it("reads .dev.vars for what the environment does not set (wrangler passes those itself)", () => {
    const r = llmVars(root("LLM_PROVIDER=\"openai\"\nLLM_API_KEY='sk-dev'\n"), {});
    expect(r.vars).toEqual({});
    expect(r.summary).toContain("model gpt-4o-mini at https://api.openai.com/v1/chat/completions (API key: set, from .dev.vars; provider from .dev.vars)");
    expect(llmVars(root(), { LLM_PROVIDER: "gpt" }).summary).toContain("'gpt' is unknown");
    expect(llmVars(root(), { LLM_PROVIDER: "workers-ai" }).summary).toContain("only when deployed");
    expect(parseDotEnv('A="1"\n# c\nB = two\n')).toEqual({ A: "1", B: "two" });
  });
});
