/**
 * LLM providers under the retry, timeout and circuit-breaker policy: through the whole dialogue
 * path against a fake OpenAI server (fetch spy), and the providers and pieces on their own.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AnswerSplitter } from "../../src/domain/dialogue-answer";
import { generate, offlineAnswer } from "../../src/providers/llm";
import { workersAiProvider } from "../../src/providers/llm/workers-ai";
import { CircuitBreaker } from "../../src/providers/resilience";
import { AppError } from "../../src/protocol";
import { settle, table } from "./helpers";
import { delta, fakeLlm, isEvent, never, sse, status, streamOf, tavern } from "./dialogue-fixtures";

afterEach(() => vi.restoreAllMocks());

const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;

async function speakingTable() {
  const t = await table();
  const w = await tavern(t, { approval: false });
  const speak = (text = "Hello") => t.player.request({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text });
  return { t, w, speak };
}

describe("the provider path of a dialogue", () => {
  it("retries a 429 and a 500 before the first token, then streams the answer", async () => {
    const { t, speak } = await speakingTable();
    const llm = fakeLlm(status(429, { "retry-after": "0" }), status(500), sse(["Third ", "time ", "lucky."], { split: 4 }));
    const ex = (await speak()).data;
    const said = await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    expect(said.event.exchange.text).toBe("Third time lucky.");
    expect(llm.calls).toHaveLength(3);
    // Nothing was streamed by the failed tries: the stream holds the answer once.
    expect(
      streamOf(t.player, ex.job_id)
        .map((f) => f.delta)
        .join(""),
    ).toBe("Third time lucky.");
    t.close();
  });

  it("does not retry a refusal (401): the dialogue fails at once, saying why", async () => {
    const { t, speak } = await speakingTable();
    const llm = fakeLlm(status(401));
    const ex = (await speak()).data;
    const failed = await t.player.waitFor(isEvent("DialogueFailed", (e) => e.exchange_id === ex.id));
    expect(failed.event.error).toMatchObject({ code: "UNAVAILABLE", retryable: true, details: { reason: "provider_error", status: 401, attempts: 1 } });
    expect(llm.calls).toHaveLength(1);
    t.close();
  });

  it("a drop mid-stream ends the stream, fails the dialogue visibly and keeps nothing half-written; no retry after the first token", async () => {
    const { t, w, speak } = await speakingTable();
    const llm = fakeLlm(sse(["I was ", "about to ", "say"], { end: "drop", dropAfter: 2 }), sse(["never asked"]));
    const ex = (await speak()).data;
    for (const s of [t.player, t.spectator, t.dm]) {
      const failed = await s.waitFor(isEvent("DialogueFailed", (e) => e.exchange_id === ex.id));
      expect(failed.event).toMatchObject({
        npc_id: w.npc.id,
        character_id: w.pc.id,
        error: { code: "UNAVAILABLE", details: { reason: "stream_interrupted" } },
      });
      const frames = streamOf(s, ex.job_id);
      expect(frames.map((f) => f.delta).join("")).toBe("I was about to ");
      expect(frames.at(-1)).toMatchObject({ done: true });
    }
    expect(llm.calls).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM dialogue_turns WHERE exchange_id = ?", ex.id)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM story_events WHERE session_id = ? AND kind = 'dialogue_exchange'", t.dmGrant.session_id)).toBe(0);
    const row = await env.DB.prepare("SELECT status, text FROM dialogue_exchanges WHERE id = ?").bind(ex.id).first<{ status: string; text: string | null }>();
    expect(row).toEqual({ status: "failed", text: null });
    expect(t.player.events("NpcSpeaks")).toHaveLength(0);
    // The conversation may go on: a new exchange is accepted.
    llm.push(sse(["Sorry, where was I?"]));
    const next = (await speak("You were saying?")).data;
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === next.id));
    t.close();
  });

  it("a server that never answers times out at the first token on every try (TIMEOUT)", async () => {
    const { t, speak } = await speakingTable();
    // Twice no answer at all, then headers and a body that never sends an event.
    const llm = fakeLlm(never, never, sse([], { end: "hang" }));
    const started = Date.now();
    const ex = (await speak()).data;
    const failed = await t.player.waitFor(
      isEvent("DialogueFailed", (e) => e.exchange_id === ex.id),
      8000,
    );
    expect(failed.event.error).toMatchObject({ code: "TIMEOUT", retryable: true, details: { reason: "first_token_timeout", attempts: 3 } });
    expect(llm.calls).toHaveLength(3); // LLM_MAX_RETRIES = 2
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 400); // LLM_FIRST_TOKEN_TIMEOUT_MS = 400
    t.close();
  });

  it("the body stalling after its first token hits the total timeout, ending the stream", async () => {
    const { t, speak } = await speakingTable();
    fakeLlm(sse(["Well", " ..."], { end: "hang" }));
    const ex = (await speak()).data;
    const failed = await t.player.waitFor(
      isEvent("DialogueFailed", (e) => e.exchange_id === ex.id),
      8000,
    );
    expect(failed.event.error).toMatchObject({ code: "TIMEOUT", details: { reason: "total_timeout" } });
    expect(streamOf(t.player, ex.job_id).at(-1)).toMatchObject({ done: true });
    t.close();
  });

  it("the circuit breaker opens after repeated failures (UNAVAILABLE at once), then a probe closes it", async () => {
    const { t, speak } = await speakingTable();
    const llm = fakeLlm();
    // LLM_BREAKER_FAILURES = 3 failed calls; each call is 3 tries.
    for (let i = 0; i < 3; i++) {
      llm.push(status(503), status(503), status(503));
      const ex = (await speak(`try ${i}`)).data;
      await t.player.waitFor(isEvent("DialogueFailed", (e) => e.exchange_id === ex.id));
    }
    expect(llm.calls).toHaveLength(9);
    const refused = await speak("anyone?");
    expect(refused).toMatchObject({ status: "error", code: "UNAVAILABLE", retryable: true, details: { reason: "circuit_open" } });
    expect(refused.details.retry_after_ms).toBeGreaterThan(0);
    expect(llm.calls).toHaveLength(9); // refused without calling the provider, nothing recorded
    expect(await count("SELECT COUNT(*) AS n FROM dialogue_exchanges WHERE session_id = ?", t.dmGrant.session_id)).toBe(3);

    await settle(700); // LLM_BREAKER_COOLDOWN_MS = 600: half-open, one probe goes through
    llm.push(sse(["Back ", "again."]));
    const probe = (await speak("hello again")).data;
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === probe.id));
    llm.push(sse(["Still here."]));
    const after = (await speak("still there?")).data;
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === after.id));
    t.close();
  });
});

describe("a provider's error text", () => {
  // Providers may echo the prompt in their errors (the NPC's DM notes, its wants).
  const ECHO = `prompt rejected: SECRET-NOTE: she smuggles wine. ${"blah ".repeat(2000)}`;
  const fromPlayers = (t: Awaited<ReturnType<typeof speakingTable>>["t"]) => [t.player, t.spectator].map((s) => JSON.stringify(s.frames)).join("");

  it("never reaches players: they get a fixed message; the DM gets the text capped (approval off, cut mid-stream)", async () => {
    const { t, speak } = await speakingTable();
    fakeLlm(
      () => new Response(`${delta("Well, ")}data: ${JSON.stringify({ error: { message: ECHO } })}\n\n`, { headers: { "content-type": "text/event-stream" } }),
    );
    const ex = (await speak()).data;
    const seen = await t.player.waitFor(isEvent("DialogueFailed", (e) => e.exchange_id === ex.id));
    expect(seen.event.error).toEqual({
      code: "UNAVAILABLE",
      message: "the NPC could not answer just now; try again",
      retryable: true,
      details: expect.objectContaining({ reason: "stream_interrupted" }),
    });
    const dm = await t.dm.waitFor(isEvent("DialogueFailed", (e) => e.exchange_id === ex.id));
    expect(dm.event.error.details.dm_detail).toContain("SECRET-NOTE");
    expect(dm.event.error.details.dm_detail.length).toBeLessThanOrEqual(300);
    expect(JSON.stringify(dm.event).length).toBeLessThan(1000);
    const job = await t.player.ok({ type: "GetJob", job_id: ex.job_id });
    expect(job.error).toMatchObject({ code: "UNAVAILABLE", details: { reason: "stream_interrupted" } });
    await settle(100);
    expect(fromPlayers(t)).not.toContain("SECRET-NOTE");
    expect(fromPlayers(t)).not.toContain("dm_detail");
    t.close();
  });

  it("never reaches the player who spoke with approval on (GetJob), nor the exchange row", async () => {
    const t = await table();
    const w = await tavern(t, { approval: true });
    fakeLlm(() => new Response(JSON.stringify({ error: { message: ECHO } }), { status: 400 }));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hello" });
    const seen = await t.player.waitFor(isEvent("DialogueFailed", (e) => e.exchange_id === ex.id));
    expect(seen.event.error).toMatchObject({
      code: "UNAVAILABLE",
      message: "the NPC could not answer just now; try again",
      details: { reason: "provider_error", status: 400 },
    });
    const dm = await t.dm.waitFor(isEvent("DialogueFailed", (e) => e.exchange_id === ex.id));
    expect(dm.event.error.details.dm_detail).toMatch(/^LLM provider 'openai' failed: answered 400/);
    expect(await t.player.ok({ type: "GetJob", job_id: ex.job_id })).toMatchObject({
      status: "failed",
      error: { message: "the NPC could not answer just now; try again" },
    });
    const row = await env.DB.prepare("SELECT error FROM dialogue_exchanges WHERE id = ?").bind(ex.id).first<{ error: string }>();
    expect(JSON.parse(row!.error).message).toBe("the NPC could not answer just now; try again");
    await settle(100);
    expect(fromPlayers(t)).not.toContain("SECRET-NOTE");
    t.close();
  });
});

describe("providers and policy pieces", () => {
  it("the offline provider answers deterministically from the NPC and the words, labelled offline", async () => {
    const offline = { ...env, LLM_PROVIDER: "offline" };
    const request = { messages: [], persona: { name: "Mira", description: "The innkeeper. Sharp-eyed.", words: "What do you serve?" } };
    const deltas: string[] = [];
    const a = await generate(offline, "test-offline", request, (d) => deltas.push(d), new AbortController().signal);
    const b = await generate(offline, "test-offline", request, () => undefined, new AbortController().signal);
    expect(a).toMatchObject({ provider: "offline", model: "offline-echo" });
    expect(a.text).toBe(b.text);
    expect(a.text).toBe(offlineAnswer(request.persona));
    expect(a.text).toContain('"What do you serve?", you say? I am Mira. The innkeeper.');
    expect(deltas.length).toBeGreaterThan(3); // streamed word by word
    expect(deltas.join("")).toBe(a.text);
  });

  it("an unknown LLM_PROVIDER and a missing Workers AI binding answer UNAVAILABLE naming the cause", async () => {
    const s = new AbortController().signal;
    const persona = { name: "X", description: "", words: "hi" };
    await expect(generate({ ...env, LLM_PROVIDER: "gpt" }, "x", { messages: [], persona }, () => undefined, s)).rejects.toMatchObject({
      code: "UNAVAILABLE",
      details: { reason: "llm_misconfigured" },
    });
    await expect(generate({ ...env, LLM_PROVIDER: "workers-ai" }, "x", { messages: [], persona }, () => undefined, s)).rejects.toMatchObject({
      code: "UNAVAILABLE",
      details: { reason: "llm_misconfigured" },
    });
  });

  it("the Workers AI provider streams the binding's SSE (a fake { run } object)", async () => {
    const calls: unknown[][] = [];
    const ai = {
      async run(...args: unknown[]) {
        calls.push(args);
        const enc = new TextEncoder();
        const text = ['data: {"response":"Hel"}\n\n', 'data: {"response":"lo"}\n\n', "data: [DONE]\n\n"].join("");
        return new ReadableStream({ start: (c) => (c.enqueue(enc.encode(text.slice(0, 9))), c.enqueue(enc.encode(text.slice(9))), c.close()) });
      },
    };
    const env2 = { ...env, LLM_PROVIDER: "workers-ai", LLM_MODEL: "", AI: ai };
    const out: string[] = [];
    const r = await generate(
      env2,
      "test-wai",
      { messages: [{ role: "user", content: "hi" }], persona: { name: "X", description: "", words: "hi" } },
      (d) => out.push(d),
      new AbortController().signal,
    );
    expect(r).toMatchObject({ text: "Hello", provider: "workers-ai", model: "@cf/meta/llama-3.1-8b-instruct" });
    expect(out).toEqual(["Hel", "lo"]);
    expect(calls[0]![0]).toBe("@cf/meta/llama-3.1-8b-instruct");
    expect(calls[0]![1]).toMatchObject({ stream: true, messages: [{ role: "user", content: "hi" }] });
    // A provider object used directly, without the policy: a cut stream is an error.
    const cut = workersAiProvider(
      { run: async () => new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('data: {"response":"x"}\n\n')), c.close()) }) },
      "m",
    );
    const it = cut
      .stream({ messages: [], maxTokens: 1, temperature: 0, persona: { name: "", description: "", words: "" } }, new AbortController().signal)
      [Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: "x", done: false });
    await expect(it.next()).rejects.toThrow("ended before [DONE]");
  });

  it("the OpenAI provider sends the key as a Bearer token and reads events split across writes", async () => {
    const llm = fakeLlm(() => new Response(delta("a") + delta("b").slice(0, 10), { headers: { "content-type": "text/event-stream" } }));
    const keyed = { ...env, LLM_API_KEY: "sk-test", LLM_BASE_URL: "http://llm.test/v1/" };
    await expect(
      generate(keyed, "test-key", { messages: [], persona: { name: "", description: "", words: "" } }, () => undefined, new AbortController().signal),
    ).rejects.toMatchObject({
      code: "UNAVAILABLE",
      details: { reason: "stream_interrupted" },
    });
    expect(llm.headers[0]!.get("authorization")).toBe("Bearer sk-test");
    expect(llm.urls[0]).toBe("http://llm.test/v1/chat/completions");
  });

  it("the breaker: closed → open after N failures → half-open after the cool-down, one probe at a time", () => {
    const b = new CircuitBreaker("p", { failures: 2, cooldownMs: 1000 });
    b.enter(0);
    b.failure(0);
    b.enter(0);
    b.failure(10);
    expect(b.status).toBe("open");
    expect(() => b.enter(500)).toThrow(AppError);
    b.enter(1010); // the probe
    expect(b.status).toBe("half_open");
    expect(() => b.enter(1011)).toThrow(/not calling it/); // a second caller waits for the probe
    b.failure(1020);
    expect(b.status).toBe("open");
    expect(() => b.enter(1500)).toThrow();
    b.enter(2100);
    b.success();
    expect(b.status).toBe("closed");
    b.enter(2101);
  });

  it("the answer splitter streams what the NPC says and holds back the [DM] part, even split across deltas", () => {
    const s = new AnswerSplitter();
    const shown = ["Hello ", "there. [", "D", "M] secret ", "reasons", " [DM] more"].map((d) => s.push(d)).join("");
    const end = s.finish();
    expect(shown + end.rest).toBe("Hello there. ");
    expect(end).toMatchObject({ text: "Hello there.", reasoning: "secret reasons [DM] more" });
    const plain = new AnswerSplitter();
    expect(["A [", "b]"].map((d) => plain.push(d)).join("") + plain.finish().rest).toBe("A [b]");
  });

  it("the splitter finds the DM part however it is spelt, split at any point, and leaves names alone", () => {
    const SAID = "*wipes a mug* Welcome, traveller.";
    const variants = [
      `${SAID}\n[dm] LEAK she lies`,
      `${SAID} [Dm] LEAK she lies`,
      `${SAID}\n[ DM ] LEAK she lies`,
      `${SAID}\n[DM notes] LEAK she lies`,
      `${SAID}\nDM: LEAK she lies`,
      `${SAID}\ndm: LEAK she lies`,
      `${SAID}\n**DM:** LEAK she lies`,
      `${SAID}\n  Dm notes: LEAK she lies`,
      `${SAID}\r\n> DM reasoning: LEAK she lies`,
    ];
    for (const answer of variants) {
      // Every cut of the answer into two deltas, and one character at a time.
      const cuts = [...Array.from({ length: answer.length + 1 }, (_, i) => [answer.slice(0, i), answer.slice(i)]), [...answer]];
      for (const deltas of cuts) {
        const s = new AnswerSplitter();
        const shown = deltas.map((d) => s.push(d)).join("");
        const end = s.finish();
        expect(shown + end.rest, JSON.stringify(deltas)).not.toContain("LEAK");
        expect(end.text).toBe(SAID);
        expect(end.reasoning).toBe("LEAK she lies");
      }
    }
    // Names and ordinary words stay what the NPC says.
    for (const answer of ["Dmitri: hello there.", "Ask [Dmitri] about it.", "Admin: no.\nDmitri says hi. DM: not at a line start"]) {
      const s = new AnswerSplitter();
      const shown = [...answer].map((d) => s.push(d)).join("");
      const end = s.finish();
      expect(shown + end.rest).toBe(answer);
      expect(end.reasoning).toBeNull();
    }
  });
});
