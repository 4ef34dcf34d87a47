/**
 * Dialogue end to end inside the Workers runtime: SpeakToNpc → the dialogue.reply job streams the
 * fake OpenAI server's tokens → NpcSpeaks (approval off) or DialogueApprovalRequired → ApproveDialogue.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { sessionStub } from "../../src/worker/auth";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TestSocket, settle, table } from "./helpers";
import { fakeLlm, gated, isEvent, sse, streamOf, streamedText, tavern } from "./dialogue-fixtures";

afterEach(() => vi.restoreAllMocks());

const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
const SAYS = ["*wipes a mug* ", "Welcome, ", "traveller. ", "Ale is two coppers.", "\n[DM] She suspects Ayla of being a tax collector."];
const SAID = "*wipes a mug* Welcome, traveller. Ale is two coppers.";

/** Everything a player-side socket received, as one string (to look for what must never be there). */
const wire = (s: TestSocket) => JSON.stringify(s.frames);

describe("dialogue without approval", () => {
  it("streams the NPC's words to everyone, then NpcSpeaks; turns, story event and prompt as specified", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    const llm = fakeLlm(sse(SAYS, { split: 5 }));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Good evening! What do you serve?" });
    expect(ex).toMatchObject({
      status: "generating",
      approval: false,
      npc_id: w.npc.id,
      character_id: w.pc.id,
      participant_id: t.playerGrant.participant_id,
      text: null,
    });
    expect(ex.job_id).toEqual(expect.any(String));

    for (const s of [t.player, t.spectator, t.dm]) {
      const said = await s.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
      expect(said.event.exchange).toMatchObject({ status: "answered", text: SAID, source: "llm", provider: "openai", model: "test-model" });
      expect(said.event.turns.map((x: any) => [x.speaker, x.text])).toEqual([
        ["pc", "Good evening! What do you serve?"],
        ["npc", SAID],
      ]);
      // Everyone saw the words stream, in order, ending with done before the final event — never the DM part.
      expect(streamedText(s, ex.job_id).trim()).toBe(SAID);
      expect(streamOf(s, ex.job_id).at(-1)).toMatchObject({ done: true });
      expect(s.frames.findIndex((f) => f.type === "Stream" && f.done)).toBeLessThan(s.frames.indexOf(said));
      expect(JSON.stringify(streamOf(s, ex.job_id))).not.toContain("tax collector");
    }
    // DM-only: the model's reasons reach DMs, never a player frame; nor do the NPC's DM notes.
    expect((await t.dm.waitFor(isEvent("NpcSpeaks"))).event.exchange.dm_reasoning).toBe("She suspects Ayla of being a tax collector.");
    for (const s of [t.player, t.spectator]) {
      expect(wire(s)).not.toContain("tax collector");
      expect(wire(s)).not.toContain("SECRET-NOTE");
      expect(wire(s)).not.toContain("dm_");
    }

    // The prompt: templates filled from the world, the NPC (notes for the model), region, who is present.
    expect(llm.urls).toEqual(["http://llm.test/v1/chat/completions"]);
    const body = llm.calls[0];
    expect(body).toMatchObject({ model: "test-model", stream: true });
    const system = body.messages[0].content as string;
    expect(body.messages[0].role).toBe("system");
    for (const part of [
      "You are Mira",
      "The innkeeper. Sharp-eyed.",
      "SECRET-NOTE: she smuggles wine",
      "Common room (Gilded Lantern)",
      "Tobin the bard",
      "talking with Ayla",
      "[DM]",
    ]) {
      expect(system).toContain(part);
    }
    expect(system).not.toContain("HIDDEN-GHOST"); // hidden NPCs are not named to the model either
    expect(system).not.toContain("Rat king"); // not in this region
    expect(body.messages[1]).toEqual({ role: "user", content: "Ayla: Good evening! What do you serve?" });

    // Memory: the turns read back, the timeline entry, the exchange row.
    const turns = await t.player.ok({ type: "ListDialogueTurns", npc_id: w.npc.id, character_id: w.pc.id });
    expect(turns.items.map((x: any) => x.speaker)).toEqual(["npc", "pc"]); // newest first
    const story = await t.player.ok({ type: "ListStoryEvents", kind: "dialogue_exchange" });
    expect(story.items).toHaveLength(1);
    expect(story.items[0]).toMatchObject({
      summary: "Ayla spoke with Mira",
      character_ids: [w.pc.id, w.npc.id],
      region_id: w.hall.id,
      details: { text: SAID },
    });

    // The second exchange's prompt carries the first as recent conversation.
    llm.push(sse(["Anything else?"]));
    const second = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Just the ale." });
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === second.id));
    expect(llm.calls[1].messages[0].content).toContain(`Mira: ${SAID}`);
    expect(llm.calls[1].messages[0].content).toContain("Ayla: Good evening! What do you serve?");
    t.close();
  });

  it("serves other writes while an answer streams", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    fakeLlm(sse(["Let me ", "think ", "about ", "that."], { gapAfter: { index: 2, ms: 1500 } }));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Any rumours?" });
    await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === ex.job_id && f.delta !== "");
    const started = Date.now();
    const goal = await t.dm.ok({ type: "CreateGoal", data: { name: "Meanwhile" } });
    expect(goal.name).toBe("Meanwhile");
    expect(Date.now() - started).toBeLessThan(1000);
    expect(t.player.events("NpcSpeaks")).toHaveLength(0); // the answer is still on its way
    const said = await t.player.waitFor(isEvent("NpcSpeaks"));
    expect(said.event.exchange.text).toBe("Let me think about that.");
    t.close();
  });
});

describe("a player who drops mid-stream", () => {
  it("gets the final text from the committed event when it resumes", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    fakeLlm(sse(["A long ", "story ", "it is."], { gapAfter: { index: 1, ms: 600 } }));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Tell me a story." });
    await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === ex.job_id && f.delta === "A long ");
    const lastSeen = t.player.lastSeq();
    t.player.close();
    await t.player.waitClosed();
    await t.dm.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    const back = await TestSocket.open(t.playerGrant);
    const joined = await back.join(lastSeen);
    expect(joined.resume).toBe("replayed");
    const said = await back.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    expect(said.event.exchange.text).toBe("A long story it is.");
    expect(streamOf(back, ex.job_id)).toHaveLength(0); // streams are live only
    back.close();
    t.close();
  });
});

describe("dialogue with DM approval (the default)", () => {
  it("streams the draft to DMs only; players get nothing DM-only; accept says it to everyone", async () => {
    const t = await table();
    const w = await tavern(t, { approval: true });
    fakeLlm(sse(SAYS));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Good evening!" });
    expect(ex.approval).toBe(true);
    await t.spectator.waitFor(isEvent("DialogueStarted", (e) => e.exchange.id === ex.id));
    const pending = await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.id === ex.id));
    expect(pending.event.exchange).toMatchObject({
      status: "awaiting_approval",
      dm_draft: SAID,
      dm_reasoning: "She suspects Ayla of being a tax collector.",
      text: null,
    });
    expect(streamedText(t.dm, ex.job_id).trim()).toBe(SAID);
    await settle(200);
    for (const s of [t.player, t.spectator]) {
      expect(streamOf(s, ex.job_id)).toHaveLength(0);
      expect(s.events("DialogueApprovalRequired")).toHaveLength(0);
      expect(wire(s)).not.toContain("Ale is two coppers");
      expect(wire(s)).not.toContain("tax collector");
      expect(wire(s)).not.toContain("SECRET-NOTE");
    }
    // The job the player started is readable by it: it names the exchange, never the draft.
    const job = await t.player.ok({ type: "GetJob", job_id: ex.job_id });
    expect(job).toMatchObject({ status: "succeeded", output: { exchange_id: ex.id, provider: "openai" } });
    expect(JSON.stringify(job)).not.toContain("coppers");
    expect((await t.player.request({ type: "ListPendingDialogues" })).code).toBe("FORBIDDEN");
    expect((await t.player.request({ type: "ApproveDialogue", exchange_id: ex.id, decision: "accept" })).code).toBe("FORBIDDEN");
    expect(await count("SELECT COUNT(*) AS n FROM dialogue_turns WHERE exchange_id = ?", ex.id)).toBe(0);

    const accepted = await t.dm.ok({ type: "ApproveDialogue", exchange_id: ex.id, decision: "accept" });
    expect(accepted).toMatchObject({ status: "answered", text: SAID, source: "llm", provider: "openai" });
    const said = await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    expect(said.event.exchange.text).toBe(SAID);
    expect(wire(t.player)).not.toContain("tax collector");
    expect(wire(t.player)).not.toContain("dm_");
    expect(await count("SELECT COUNT(*) AS n FROM dialogue_turns WHERE exchange_id = ?", ex.id)).toBe(2);
    expect((await t.dm.request({ type: "ApproveDialogue", exchange_id: ex.id, decision: "accept" })).code).toBe("CONFLICT");
    t.close();
  });

  it("edit and take over say the DM's text; edit keeps the provider, take over is labelled dm", async () => {
    const t = await table();
    const w = await tavern(t, { approval: true });
    fakeLlm(sse(["Go away."]), sse(["Hmm."]));
    const first = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hello?" });
    await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.id === first.id));
    expect((await t.dm.request({ type: "ApproveDialogue", exchange_id: first.id, decision: "edit" })).code).toBe("VALIDATION_ERROR");
    const edited = await t.dm.ok({ type: "ApproveDialogue", exchange_id: first.id, decision: "edit", text: "Welcome, friend." });
    expect(edited).toMatchObject({ text: "Welcome, friend.", source: "dm_edit", provider: "openai" });
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.text === "Welcome, friend."));

    const second = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Tell me a secret." });
    await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.id === second.id));
    const took = await t.dm.ok({ type: "ApproveDialogue", exchange_id: second.id, decision: "take_over", text: "*leans in* Not here." });
    expect(took).toMatchObject({ text: "*leans in* Not here.", source: "dm", provider: "dm" });
    const said = await t.spectator.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === second.id));
    expect(said.event.turns[1]).toMatchObject({ speaker: "npc", text: "*leans in* Not here.", provider: "dm" });
    expect(wire(t.player)).not.toContain("Go away.");
    expect(wire(t.player)).not.toContain("Hmm.");
    t.close();
  });

  it("reject with feedback drafts again (streaming again to DMs), with the feedback in the prompt", async () => {
    const t = await table();
    const w = await tavern(t, { approval: true });
    const llm = fakeLlm(sse(["Buzz off."]), sse(["Welcome, ", "dear."]));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hello!" });
    await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.dm_draft === "Buzz off."));
    const again = await t.dm.ok({ type: "ApproveDialogue", exchange_id: ex.id, decision: "reject", feedback: "Be friendlier." });
    expect(again).toMatchObject({ status: "generating", attempts: 2, dm_feedback: "Be friendlier." });
    expect(again.job_id).not.toBe(ex.job_id);
    const regen = await t.dm.waitFor(isEvent("DialogueRegenerating", (e) => e.exchange.id === ex.id));
    expect(regen.event.exchange.job_id).toBe(again.job_id);
    const second = await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.dm_draft === "Welcome, dear."));
    expect(second.event.exchange.attempts).toBe(2);
    expect(streamedText(t.dm, again.job_id)).toBe("Welcome, dear.");
    expect(llm.calls[1].messages[0].content).toContain('The game master rejected your previous answer ("Buzz off."). Their direction: Be friendlier.');
    await t.dm.ok({ type: "ApproveDialogue", exchange_id: ex.id, decision: "accept" });
    const said = await t.player.waitFor(isEvent("NpcSpeaks"));
    expect(said.event.exchange.text).toBe("Welcome, dear.");
    await settle(100);
    expect(t.player.events("DialogueRegenerating")).toHaveLength(0);
    expect(wire(t.player)).not.toContain("Buzz off.");
    expect(wire(t.player)).not.toContain("Be friendlier.");
    t.close();
  });

  it("a pending approval survives eviction and is listed for a DM who joins later", async () => {
    const t = await table();
    const w = await tavern(t, { approval: true });
    fakeLlm(sse(["Who's asking?"]));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hi." });
    await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.id === ex.id));
    await t.evict();

    const dm = await TestSocket.open(t.dmGrant);
    await dm.join();
    const pending = await dm.ok({ type: "ListPendingDialogues" });
    expect(pending.items).toHaveLength(1);
    expect(pending.items[0]).toMatchObject({ id: ex.id, status: "awaiting_approval", dm_draft: "Who's asking?" });
    const player = await TestSocket.open(t.playerGrant);
    await player.join();
    await dm.ok({ type: "ApproveDialogue", exchange_id: ex.id, decision: "accept" });
    await player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.text === "Who's asking?"));
    expect((await dm.ok({ type: "ListPendingDialogues" })).items).toHaveLength(0);
    dm.close();
    player.close();
    await Promise.all([dm.waitClosed(), player.waitClosed()]);
    await settle(300);
  });
});

describe("an answer cut by an eviction", () => {
  it("is drafted again when the object comes back, and still reaches the table", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    const llm = fakeLlm(sse(["Once upon ", "a time"], { gapAfter: { index: 1, ms: 5000 } }), sse(["Where ", "was I? ", "Ah, yes."]));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "A story, please." });
    await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === ex.job_id && f.delta === "Once upon ");
    const lastSeen = t.player.lastSeq();
    await t.evict();

    const player = await TestSocket.open(t.playerGrant);
    await player.join(lastSeen); // loads the object: its job's lease is due at once
    await runDurableObjectAlarm(sessionStub(env, t.dmGrant.session_id));
    const said = await player.waitFor(
      isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id),
      8000,
    );
    expect(said.event.exchange.text).toBe("Where was I? Ah, yes.");
    expect(llm.calls).toHaveLength(2);
    expect(await count("SELECT COUNT(*) AS n FROM dialogue_turns WHERE exchange_id = ?", ex.id)).toBe(2);
    player.close();
    await player.waitClosed();
    await settle(300);
  });
});

describe("who may speak to whom", () => {
  it("refuses absent, hidden and foreign characters with typed errors, changing nothing", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    const llm = fakeLlm();
    const other = await t.dm.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Someone else's", region_id: w.hall.id } });
    const speak = (s: TestSocket, character_id: string, npc_id: string, text = "Hi") => s.request({ type: "SpeakToNpc", character_id, npc_id, text });
    expect(await speak(t.player, w.pc.id, w.rat.id)).toMatchObject({
      code: "FORBIDDEN",
      message: "Rat king is not here",
      details: { reason: "not_here", absence: "not_in_same_region" },
    });
    expect(await speak(t.player, w.pc.id, w.ghost.id)).toMatchObject({ code: "NOT_FOUND" }); // a hidden NPC does not exist for players
    expect(await speak(t.dm, w.pc.id, w.ghost.id)).toMatchObject({ code: "FORBIDDEN", details: { reason: "not_here", absence: "npc_hidden" } });
    expect(await speak(t.player, other.id, w.npc.id)).toMatchObject({ code: "FORBIDDEN" });
    expect(await speak(t.spectator, w.pc.id, w.npc.id)).toMatchObject({ code: "FORBIDDEN" });
    expect(await speak(t.player, w.npc.id, w.bard.id)).toMatchObject({ code: "VALIDATION_ERROR", details: { issues: [{ path: "character_id" }] } });
    expect(await speak(t.player, w.pc.id, w.pc.id)).toMatchObject({ code: "VALIDATION_ERROR", details: { issues: [{ path: "npc_id" }] } });
    expect(await speak(t.player, w.pc.id, w.npc.id, "   ")).toMatchObject({ code: "VALIDATION_ERROR" });
    expect((await t.player.request({ type: "ListDialogueTurns", npc_id: w.ghost.id })).code).toBe("NOT_FOUND");
    expect(await count("SELECT COUNT(*) AS n FROM dialogue_exchanges WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM jobs WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);
    expect(llm.calls).toHaveLength(0);

    // The DM may speak for any PC; one answer at a time per PC and NPC.
    llm.push(sse(["One ", "moment."], { gapAfter: { index: 1, ms: 500 } }));
    const ex = await t.dm.ok({ type: "SpeakToNpc", character_id: other.id, npc_id: w.npc.id, text: "Excuse me." });
    expect(await speak(t.dm, other.id, w.npc.id)).toMatchObject({ code: "CONFLICT", details: { reason: "dialogue_in_progress", exchange_id: ex.id } });
    await t.dm.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    t.close();
  });
});

describe("dialogue and staging", () => {
  it("the region's staging decides who is present; without one, the NPC's own region does", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    fakeLlm(sse(["Hm."]));
    await t.dm.ok({ type: "PreStageRegion", region_id: w.hall.id, npcs: [{ character_id: w.npc.id, present: false }] });
    const refused = await t.player.request({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hello?" });
    expect(refused).toMatchObject({ status: "error", code: "FORBIDDEN", details: { reason: "not_here", absence: "not_staged_here" } });
    await t.dm.ok({ type: "PreStageRegion", region_id: w.hall.id, npcs: [{ character_id: w.npc.id, present: true }] });
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hello!" });
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    t.close();
  });
});

describe("dialogue and the actantial model", () => {
  it("gives the model the NPC's wants with how to treat them, and never shows them to players", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    const llm = fakeLlm(sse(["Perhaps."]));
    await t.dm.ok({
      type: "CreateWant",
      npc_id: w.npc.id,
      data: {
        description: "WANT-MARK recover the smuggled casks",
        intensity: 0.9,
        visibility: "hidden",
        deflection_behavior: "changes the subject to the weather",
        tells: ["glances at the cellar door"],
      },
    });
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Anything troubling you?" });
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    const system = llm.calls[0].messages[0].content as string;
    for (const part of [
      "WANT-MARK recover the smuggled casks",
      "intensity 0.9",
      "conceals it",
      "changes the subject to the weather",
      "glances at the cellar door",
    ]) {
      expect(system).toContain(part);
    }
    for (const s of [t.player, t.spectator]) expect(wire(s)).not.toContain("WANT-MARK");
    t.close();
  });
});

describe("the budget of outside work", () => {
  it("caps LLM calls at once and per minute, per participant and per session: RATE_LIMITED with a reason and a wait, nothing recorded", async () => {
    // vitest.config.ts: 2 at once and 6 a minute per participant; 3 at once and 9 a minute per session.
    const t = await table();
    const w = await tavern(t, { approval: false });
    const bren = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Old Bren", region_id: w.hall.id } });
    const other = await t.dm.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Kestrel", region_id: w.hall.id } });
    const slow = () => sse(["Hmm, ", "let me see."], { gapAfter: { index: 1, ms: 700 } });
    const llm = fakeLlm(slow(), slow(), slow());
    const speak = (s: TestSocket, character_id: string, npc_id: string) => s.request({ type: "SpeakToNpc", character_id, npc_id, text: "Hello" });
    const recorded = async () => [
      await count("SELECT COUNT(*) AS n FROM dialogue_exchanges WHERE session_id = ?", t.dmGrant.session_id),
      await count("SELECT COUNT(*) AS n FROM jobs WHERE session_id = ?", t.dmGrant.session_id),
    ];
    const a = (await speak(t.player, w.pc.id, w.npc.id)).data;
    const b = (await speak(t.player, w.pc.id, w.bard.id)).data;
    const third = await speak(t.player, w.pc.id, bren.id);
    expect(third).toMatchObject({ status: "error", code: "RATE_LIMITED", retryable: true, details: { reason: "dialogue_concurrency", limit: 2 } });
    expect(third.details.retry_after_ms).toBeGreaterThan(0);
    const c = (await t.dm.request({ type: "SpeakToNpc", character_id: other.id, npc_id: bren.id, text: "Evening." })).data;
    expect(c.status).toBe("generating");
    expect(await speak(t.dm, other.id, w.npc.id)).toMatchObject({ code: "RATE_LIMITED", details: { reason: "dialogue_session_concurrency", limit: 3 } });
    expect(await recorded()).toEqual([3, 3]);
    for (const ex of [a, b, c]) await t.dm.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));

    // Per minute: the player has made 2 calls; 4 more reach its 6.
    for (let i = 0; i < 4; i++) {
      llm.push(sse(["Yes?"]));
      const ex = (await speak(t.player, w.pc.id, w.npc.id)).data;
      await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    }
    const over = await speak(t.player, w.pc.id, w.npc.id);
    expect(over).toMatchObject({ code: "RATE_LIMITED", details: { reason: "dialogue_budget", limit: 6 } });
    expect(over.details.retry_after_ms).toBeGreaterThan(0);
    expect(over.details.retry_after_ms).toBeLessThanOrEqual(60_000);
    // The DM has its own budget (1 call so far), but the session's 9 a minute are shared: 7 + 2.
    for (let i = 0; i < 2; i++) {
      llm.push(sse(["Aye."]));
      const ex = (await speak(t.dm, other.id, w.npc.id)).data;
      await t.dm.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    }
    expect(await speak(t.dm, other.id, w.npc.id)).toMatchObject({ code: "RATE_LIMITED", details: { reason: "dialogue_session_budget", limit: 9 } });
    expect(await recorded()).toEqual([9, 9]);
    expect(llm.calls).toHaveLength(9);
    t.close();
  });
});

describe("an NPC that leaves the players' view while it answers", () => {
  /** Player-side frames of the job's stream after the frame `after` (by position in what the socket got). */
  const deltasAfter = (s: TestSocket, jobId: string, after: any) =>
    s.frames.slice(s.frames.indexOf(after) + 1).filter((f) => f.type === "Stream" && f.stream_id === jobId && f.delta !== "");

  for (const how of ["hidden by the DM", "staged away"] as const) {
    it(`${how}: players' stream ends at once, DMs keep it; the draft waits for the DM`, async () => {
      const t = await table();
      const w = await tavern(t, { approval: false });
      const answer = gated(["Listen ", "well. "], ["The secret ", "is GOLD-MARK."]);
      fakeLlm(answer.reply);
      const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Any secrets?" });
      await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === ex.job_id && f.delta.includes("well"));
      if (how === "hidden by the DM") await t.dm.ok({ type: "UpdateCharacter", character_id: w.npc.id, data: { hidden: true } });
      else await t.dm.ok({ type: "PreStageRegion", region_id: w.hall.id, npcs: [{ character_id: w.npc.id, present: false }] });
      // What the player got of that change, before more words come.
      const seen = how === "hidden by the DM" ? await t.player.waitFor(isEvent("CharacterDeleted")) : await t.player.waitFor(isEvent("StagingApproved"));
      answer.release();
      const pending = await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.id === ex.id));
      expect(pending.event.exchange).toMatchObject({ status: "awaiting_approval", dm_draft: "Listen well. The secret is GOLD-MARK." });
      expect(streamedText(t.dm, ex.job_id)).toBe("Listen well. The secret is GOLD-MARK.");
      for (const s of [t.player, t.spectator]) {
        const frames = streamOf(s, ex.job_id);
        expect(frames.at(-1)).toMatchObject({ done: true });
        expect(frames.map((f) => f.index)).toEqual(frames.map((_, i) => i));
        expect(wire(s)).not.toContain("GOLD-MARK");
      }
      expect(deltasAfter(t.player, ex.job_id, seen)).toEqual([]);
      expect(await count("SELECT COUNT(*) AS n FROM dialogue_turns WHERE exchange_id = ?", ex.id)).toBe(0);
      if (how === "hidden by the DM") {
        await t.dm.ok({ type: "ApproveDialogue", exchange_id: ex.id, decision: "accept" });
        await t.dm.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
        await settle(100);
        expect(t.player.events("NpcSpeaks")).toHaveLength(0);
        expect(wire(t.player)).not.toContain("GOLD-MARK");
      }
      t.close();
    });
  }
});

describe("an NPC hidden before its answer's job runs", () => {
  it("streams nothing to players (a Batch speaks, then hides the NPC, in one commit)", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    fakeLlm(sse(["The ", "secret ", "is ", "GOLD-MARK."]));
    const res = await t.dm.ok({
      type: "Batch",
      operations: [
        { type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Psst." },
        { type: "UpdateCharacter", character_id: w.npc.id, data: { hidden: true } },
      ],
    });
    const ex = res.results[0];
    await t.dm.waitFor(isEvent("DialogueApprovalRequired", (e) => e.exchange.id === ex.id));
    expect(streamedText(t.dm, ex.job_id)).toBe("The secret is GOLD-MARK.");
    await settle(100);
    for (const s of [t.player, t.spectator]) {
      expect(streamOf(s, ex.job_id).filter((f) => f.delta !== "")).toEqual([]);
      expect(wire(s)).not.toContain("GOLD-MARK");
    }
    t.close();
  });
});

describe("one answer is bounded", () => {
  it("a provider that never stops is cut at DIALOGUE_MAX_ANSWER_CHARS and costs at most DIALOGUE_MAX_STREAM_FRAMES frames", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    // 3,000 one-word deltas of 8 characters: 24,000 characters, far past the 4,000 cap.
    const llm = fakeLlm(sse(Array.from({ length: 3000 }, () => "blah-la ")));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Go on." });
    const said = await t.player.waitFor(
      isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id),
      15_000,
    );
    expect(said.event.exchange.text.length).toBeLessThanOrEqual(4001);
    expect(said.event.exchange.text.endsWith("…")).toBe(true);
    const frames = streamOf(t.player, ex.job_id);
    expect(frames.length).toBeLessThanOrEqual(201); // 200 frames and the end
    expect(streamedText(t.player, ex.job_id).trim()).toBe(said.event.exchange.text.slice(0, -1).trim());
    const bytes = JSON.stringify(t.spectator.frames).length;
    expect(bytes).toBeLessThan(80_000);
    const story = await t.player.ok({ type: "ListStoryEvents", kind: "dialogue_exchange" });
    expect(story.items).toHaveLength(1);
    expect(llm.calls).toHaveLength(1);
    t.close();
  });
});
