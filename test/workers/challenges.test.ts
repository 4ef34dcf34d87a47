import { describe, expect, it } from "vitest";
import { suggestOutcome } from "../../src/domain/challenges";
import type { Challenge, DiceRoll } from "../../src/protocol";
import { joinSession, settle, table, TestSocket } from "./helpers";

const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

const outcomes = { success: "You make it", failure: "You fall", partial: "You make it, hurt", critical: "Flawless" };
const challenge = (difficulty: Challenge["difficulty"], o = outcomes) => ({ difficulty, outcomes: o }) as unknown as Challenge;
const d = (sides: number, ...values: number[]): DiceRoll =>
  ({
    total: values.reduce((a, b) => a + b, 0),
    terms: [{ kind: "dice", sides, dice: values.map((value) => ({ value, kept: true })), value: values.reduce((a, b) => a + b, 0) }],
  }) as unknown as DiceRoll;

describe("challenge outcome rules", () => {
  it("suggests by DC, percentage and 2d6 bands", () => {
    const dc = challenge({ kind: "dc", value: 15 });
    expect(suggestOutcome(dc, d(20, 20), 0).outcome).toBe("critical");
    expect(suggestOutcome(dc, d(20, 1), 30).outcome).toBe("failure");
    expect(suggestOutcome(dc, d(20, 12), 3)).toEqual({ outcome: "success", total: 15 });
    expect(suggestOutcome(dc, d(20, 11), 2).outcome).toBe("partial");
    expect(suggestOutcome(dc, d(20, 5), 2).outcome).toBe("failure");
    expect(suggestOutcome(challenge({ kind: "dc", value: 15 }, { ...outcomes, critical: "", partial: "" }), d(20, 20), 0).outcome).toBe("success");
    const pct = challenge({ kind: "percentage", value: 40 });
    expect(suggestOutcome(pct, d(100, 45), 10).outcome).toBe("success");
    expect(suggestOutcome(pct, d(100, 51), 10).outcome).toBe("failure");
    expect(suggestOutcome(pct, d(100, 3), 0).outcome).toBe("critical");
    const nar = challenge({ kind: "narrative" });
    expect(suggestOutcome(nar, d(6, 4, 4), 0).outcome).toBe("partial");
    expect(suggestOutcome(nar, d(6, 5, 4), 1).outcome).toBe("success");
    expect(suggestOutcome(nar, d(6, 1, 2), 0).outcome).toBe("failure");
  });
});

describe("challenges", () => {
  it("trigger → prompt to the PC's player → roll with the modifier → DM resolves once; hidden ones and outcome texts stay with DMs", async () => {
    const t = await table();
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero", stats: { athletics: 4 } } });
    const other = await joinSession(t.dmGrant.invite_code, "Player Two");
    const p2 = await TestSocket.open(other);
    await p2.join();
    const c = await t.dm.ok({
      type: "CreateChallenge",
      data: {
        name: "Climb the wall",
        check_stat: "athletics",
        difficulty: { kind: "dc", value: 12 },
        outcomes: { success: "SECRET-OUTCOME over", failure: "You slip" },
        hidden: true,
      },
    });
    expect(c.outcomes).toEqual({ success: "SECRET-OUTCOME over", failure: "You slip", partial: "", critical: "", critical_failure: "" });
    // Hidden: players do not see it at all.
    expect((await t.player.request({ type: "GetChallenge", challenge_id: c.id })).code).toBe("NOT_FOUND");
    expect((await t.player.ok({ type: "ListChallenges" })).items).toEqual([]);
    expect((await t.dm.ok({ type: "ListChallenges" })).items).toHaveLength(1);
    for (const s of [t.player, t.spectator]) {
      expect((await s.request({ type: "CreateChallenge", data: { name: "x" } })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "ResolveChallenge", attempt_id: "x" })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "ListChallengeAttempts" })).code).toBe("FORBIDDEN");
    }
    // Rolling before any prompt.
    expect((await t.dm.request({ type: "SubmitChallengeRoll", challenge_id: c.id })).code).toBe("CONFLICT");

    const attempt = await t.dm.ok({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id });
    expect(attempt).toMatchObject({ status: "prompted", suggested_dice: "1d20", modifier: 4, participant_id: t.playerGrant.participant_id });
    const prompt = await t.player.waitFor(ev("ChallengePrompt"));
    expect(prompt.event.challenge.name).toBe("Climb the wall");
    expect(prompt.event.challenge).not.toHaveProperty("outcomes");
    // Triggered: it is revealed, without its outcome texts.
    const revealed = await t.spectator.waitFor(ev("ChallengeCreated"));
    expect(revealed.event.challenge).not.toHaveProperty("outcomes");
    expect((await t.player.ok({ type: "GetChallenge", challenge_id: c.id })).outcomes).toBeUndefined();
    expect((await t.dm.request({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id })).code).toBe("CONFLICT");

    // Only the prompted player may roll.
    expect((await p2.request({ type: "SubmitChallengeRoll", challenge_id: c.id })).code).toBe("FORBIDDEN");
    expect((await t.dm.request({ type: "SubmitChallengeRoll", challenge_id: c.id })).code).toBe("FORBIDDEN");
    expect((await t.spectator.request({ type: "SubmitChallengeRoll", challenge_id: c.id })).code).toBe("FORBIDDEN");
    expect((await t.player.request({ type: "SubmitChallengeRoll", challenge_id: c.id, formula: "1d20+" })).code).toBe("VALIDATION_ERROR");
    const rolled = await t.player.ok({ type: "SubmitChallengeRoll", challenge_id: c.id });
    expect(rolled.status).toBe("rolled");
    expect(rolled.total).toBe(rolled.roll.total + 4);
    expect(["success", "failure", "partial", "critical"]).toContain(rolled.suggested_outcome);
    expect((await t.dm.waitFor(ev("ChallengeRollSubmitted"))).event.attempt.suggested_outcome).toBe(rolled.suggested_outcome);
    await t.player.waitFor(ev("ChallengeRollSubmitted"));
    expect((await t.player.request({ type: "SubmitChallengeRoll", challenge_id: c.id })).code).toBe("CONFLICT");

    const resolved = await t.dm.ok({ type: "ResolveChallenge", attempt_id: attempt.id, outcome: "success", narration: "Up you go" });
    expect(resolved).toMatchObject({ status: "resolved", outcome: "success", narration: "Up you go" });
    for (const s of [t.dm, t.player, t.spectator]) {
      const r = await s.waitFor(ev("ChallengeResolved"));
      expect(r.event).toMatchObject({ outcome: "success", outcome_text: "SECRET-OUTCOME over", challenge_name: "Climb the wall" });
      const story = await s.waitFor(ev("StoryEventCreated", (e) => e.story_event.kind === "challenge_resolved"));
      expect(story.event.story_event.character_ids).toEqual([hero.id]);
    }
    expect((await t.dm.request({ type: "ResolveChallenge", attempt_id: attempt.id })).code).toBe("CONFLICT");
    await settle();
    // Before resolution no player frame carried the outcome text.
    const firstResolved = t.player.frames.findIndex(ev("ChallengeResolved"));
    expect(JSON.stringify(t.player.frames.slice(0, firstResolved))).not.toContain("SECRET-OUTCOME");
    expect(JSON.stringify(p2.frames.slice(0, p2.frames.findIndex(ev("ChallengeResolved"))))).not.toContain("SECRET-OUTCOME");
    // The prompt went to its player (and DMs) only.
    expect(p2.events("ChallengePrompt")).toHaveLength(0);
    expect(t.spectator.events("ChallengePrompt")).toHaveLength(0);
    expect(t.spectator.events("ChallengeRollSubmitted")).toHaveLength(0);
    p2.close();
    t.close();
  });

  it("uses the world's rule system for the default difficulty; the DM may resolve with the suggested outcome", async () => {
    const t = await table();
    const world = await t.dm.ok({ type: "GetWorld" });
    await t.dm.ok({ type: "UpdateWorld", data: { rule_system: { ...world.rule_system, system_type: "d100" } } });
    const c = await t.dm.ok({ type: "CreateChallenge", data: { name: "Spot" } });
    expect(c.difficulty).toEqual({ kind: "percentage", value: 50 });
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Guard" } });
    expect((await t.dm.request({ type: "TriggerChallenge", challenge_id: c.id, character_id: npc.id })).code).toBe("VALIDATION_ERROR");
    const attempt = await t.dm.ok({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id });
    expect(attempt.suggested_dice).toBe("1d100");
    expect((await t.dm.request({ type: "ResolveChallenge", attempt_id: attempt.id })).code).toBe("VALIDATION_ERROR");
    const rolled = await t.player.ok({ type: "SubmitChallengeRoll", challenge_id: c.id, formula: "d%" });
    const resolved = await t.dm.ok({ type: "ResolveChallenge", attempt_id: attempt.id });
    expect(resolved.outcome).toBe(rolled.suggested_outcome);
    expect((await t.dm.ok({ type: "ListChallengeAttempts", challenge_id: c.id, open_only: true })).items).toEqual([]);
    expect((await t.dm.request({ type: "CreateChallenge", data: { name: "x", difficulty: { kind: "dc", value: 0 } } })).code).toBe("VALIDATION_ERROR");
    t.close();
  });
});
