import { afterEach, describe, expect, it, vi } from "vitest";
import { TestSocket, joinSession, table } from "./helpers";
import { fakeLlm, isEvent, sse } from "./dialogue-fixtures";

/**
 * Issue 17's breaks in the play loop's code (2, 4, 9 first half, 11 part), with the operations that
 * existed when they were found: each test fails on the code before the fix.
 */

type T = Awaited<ReturnType<typeof table>>;
const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

afterEach(() => vi.restoreAllMocks());

/** Events reach a socket in order: once the DM's public roll arrived, whatever came before has too. */
async function fence(t: T, ...sockets: TestSocket[]): Promise<void> {
  const r = await t.dm.ok({ type: "RollDice", formula: "1d4" });
  for (const s of sockets) await s.waitFor(ev("DiceRolled", (e) => e.roll.id === r.id));
}

const eventsAfter = (s: TestSocket, from: number) => JSON.stringify(s.frames.slice(from).filter((f) => f.type === "Event"));

describe("issue 17 in the play loop", () => {
  it("break 2: a player neither chooses the challenge's dice nor raises its own stat before rolling", async () => {
    const t = await table();
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero", stats: { dex: 1 } } });
    const c = await t.dm.ok({ type: "CreateChallenge", data: { name: "Leap", check_stat: "dex", difficulty: { kind: "dc", value: 30 } } });
    await t.dm.ok({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id });
    expect((await t.player.request({ type: "SetCharacterStat", character_id: hero.id, stat: "dex", value: 1000 })).status).toBe("error");
    expect((await t.player.request({ type: "UpdateCharacter", character_id: hero.id, data: { stats: { dex: 1000 } } })).status).toBe("error");
    expect((await t.player.ok({ type: "GetCharacter", character_id: hero.id })).stats).toEqual({ dex: 1 });
    // Within the bounds, raising it after the prompt does not change the roll's modifier.
    await t.player.ok({ type: "SetCharacterStat", character_id: hero.id, stat: "dex", value: 30 });
    const cheat = await t.player.request({ type: "SubmitChallengeRoll", challenge_id: c.id, formula: "1d2+100" });
    expect(cheat.code).toBe("VALIDATION_ERROR");
    const fair = await t.player.ok({ type: "SubmitChallengeRoll", challenge_id: c.id });
    expect(fair.roll.formula).toBe("1d20");
    expect(fair.modifier).toBe(1);
    expect(fair.total).toBeLessThanOrEqual(21);
    t.close();
  });

  it("break 4: an NPC staged present-but-hidden is named to no player (story event live, replayed, listed; PreStageRegion) nor to the model", async () => {
    const t = await table();
    await t.dm.ok({ type: "UpdateSessionSettings", data: { auto_approve_staging: false, dialogue_approval: false } });
    const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Keep" } });
    const gate = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Gate" } });
    const hall = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Hall" } });
    await t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: gate.id, to_region_id: hall.id } });
    const guard = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Guard" } });
    const watcher = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "WATCHER-NPC" } });
    // Placed in the hall by region_id, but the staging says it is away.
    const cook = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "AWAY-COOK", region_id: hall.id } });
    const pc = await t.dm.ok({
      type: "CreateCharacter",
      data: { kind: "pc", name: "Ayla", owner_participant_id: t.playerGrant.participant_id, region_id: gate.id },
    });
    const since = t.player.lastSeq();
    const from = t.player.frames.length;
    await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id });
    const pending = await t.dm.waitFor(ev("StagingApprovalRequest"));
    await t.dm.ok({
      type: "ApproveStaging",
      staging_id: pending.event.staging.id,
      npcs: [
        { character_id: guard.id, present: true },
        { character_id: watcher.id, present: true, hidden: true },
        { character_id: cook.id, present: false },
      ],
    });
    await t.dm.ok({ type: "PreStageRegion", region_id: gate.id, npcs: [{ character_id: watcher.id, present: true, hidden: true }] });
    await fence(t, t.player, t.spectator);
    expect(t.player.events("StoryEventCreated").filter((f) => f.event.story_event.kind === "staging_approved")).toHaveLength(2);
    expect(eventsAfter(t.player, from)).not.toContain(watcher.id);
    const listed = await t.player.ok({ type: "ListStoryEvents", kind: "staging_approved" });
    expect(listed.items).toHaveLength(2);
    expect(JSON.stringify(listed)).not.toContain(watcher.id);
    const replay = await TestSocket.open(t.playerGrant);
    await replay.join(since);
    expect(replay.events("StoryEventCreated").length).toBeGreaterThan(0);
    expect(JSON.stringify(replay.events())).not.toContain(watcher.id);
    replay.close();

    // The model is told who is here by the staging: the guard, not the watcher nor the cook who is away.
    const llm = fakeLlm(sse(["Halt."]));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: pc.id, npc_id: guard.id, text: "Who else is here?" });
    await t.player.waitFor(isEvent("NpcSpeaks", (e) => e.exchange.id === ex.id));
    const prompt = JSON.stringify(llm.calls[0]);
    expect(prompt).not.toContain("WATCHER-NPC");
    expect(prompt).not.toContain("AWAY-COOK");
    t.close();
  });

  it("break 9: a public roll for a hidden NPC does not name it to players, live or on replay", async () => {
    const t = await table();
    const ghost = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Ghost", hidden: true } });
    const since = t.player.lastSeq();
    const roll = await t.dm.ok({ type: "RollDice", formula: "1d20", character_id: ghost.id });
    const seen = await t.player.waitFor(ev("DiceRolled", (e) => e.roll.id === roll.id));
    expect(seen.event.character_id).toBeNull();
    expect((await t.dm.waitFor(ev("DiceRolled", (e) => e.roll.id === roll.id))).event.character_id).toBe(ghost.id);
    await fence(t, t.spectator);
    for (const s of [t.player, t.spectator]) expect(JSON.stringify(s.frames)).not.toContain(ghost.id);
    const replay = await TestSocket.open(t.playerGrant);
    await replay.join(since);
    expect(replay.events("DiceRolled").length).toBeGreaterThan(0);
    expect(JSON.stringify(replay.frames)).not.toContain(ghost.id);
    replay.close();
    t.close();
  });

  it("break 11: resolving a challenge hidden again after its trigger tells only its player (and DMs)", async () => {
    const t = await table();
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const p2 = await TestSocket.open(await joinSession(t.dmGrant.invite_code, "Player Two"));
    await p2.join();
    const c = await t.dm.ok({ type: "CreateChallenge", data: { name: "SECRET-TRIAL", difficulty: { kind: "dc", value: 10 } } });
    const attempt = await t.dm.ok({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id });
    await t.dm.ok({ type: "UpdateChallenge", challenge_id: c.id, data: { hidden: true } });
    const from = { p2: p2.frames.length, spectator: t.spectator.frames.length };
    await t.dm.ok({ type: "ResolveChallenge", attempt_id: attempt.id, outcome: "success", narration: "It worked" });
    expect((await t.player.waitFor(ev("ChallengeResolved"))).event.outcome).toBe("success");
    await fence(t, p2, t.spectator);
    expect(eventsAfter(p2, from.p2)).not.toContain("SECRET-TRIAL");
    expect(eventsAfter(t.spectator, from.spectator)).not.toContain("SECRET-TRIAL");
    expect(JSON.stringify(await p2.ok({ type: "ListStoryEvents" }))).not.toContain("SECRET-TRIAL");
    p2.close();
    t.close();
  });
});
