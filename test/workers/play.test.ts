import { afterEach, describe, expect, it, vi } from "vitest";
import { suggestOutcome } from "../../src/domain/challenges";
import { parseFormula, rollBreakdown, rollTerms } from "../../src/domain/dice";
import type { Challenge, DiceRoll } from "../../src/protocol";
import { TestSocket, joinSession, table } from "./helpers";
import { fakeLlm, sse } from "./dialogue-fixtures";

/**
 * The play loop (issue 18) and the issue-17 breaks in the same code: one presence rule, the play
 * log (live = read back, role-filtered, paged, in Batches, after eviction), what waits for whom,
 * and rolls the table cannot bend.
 */

type T = Awaited<ReturnType<typeof table>>;
const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

afterEach(() => vi.restoreAllMocks());

/**
 * A fence: the DM rolls in public and `sockets` wait for it. Events reach a socket in order, so
 * whatever an earlier commit sent them has arrived by then (no timed wait).
 */
async function fence(t: T, ...sockets: TestSocket[]): Promise<void> {
  const r = await t.dm.ok({ type: "RollDice", formula: "1d4" });
  for (const s of sockets) await s.waitFor(ev("DiceRolled", (e) => e.roll.id === r.id));
}

/** Street ⇄ yard; Hask and Tom work in the yard, Mira is placed in the street; the player's PC Ayla in the street. */
async function mill(t: T, settings: Record<string, unknown> = { auto_approve_staging: false }) {
  await t.dm.ok({ type: "UpdateSessionSettings", data: settings });
  const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Mill" } });
  const street = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Mill Street" } });
  const yard = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Mill Yard" } });
  await t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: street.id, to_region_id: yard.id } });
  const npc = (name: string, extra: Record<string, unknown> = {}) => t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name, ...extra } });
  const hask = await npc("Hask");
  const tom = await npc("Tom");
  const lurker = await npc("LURKER-NPC");
  const mira = await npc("Mira", { region_id: street.id });
  for (const c of [hask, tom, lurker]) await t.dm.ok({ type: "SetNpcRegionRelationship", character_id: c.id, region_id: yard.id, relationship_type: "work" });
  const pc = await t.dm.ok({
    type: "CreateCharacter",
    data: { kind: "pc", name: "Ayla", owner_participant_id: t.playerGrant.participant_id, region_id: street.id },
  });
  return { street, yard, hask, tom, lurker, mira, pc };
}

const names = (npcs: { name: string }[]) => npcs.map((n) => n.name).sort();

describe("presence: one rule, the server's", () => {
  it("fallback, pending (nobody, refusals in words), approved with a staged-hidden NPC named to no player anywhere", async () => {
    const t = await table();
    const w = await mill(t);
    const since = t.player.lastSeq();
    // The lurker is a character everyone knows; its being staged hidden in the yard is the DM's secret.
    const from = { [t.player.grant.token]: t.player.frames.length, [t.spectator.grant.token]: t.spectator.frames.length };

    // Fallback: the NPCs placed in the region; the PC is listed too.
    const street = await t.player.ok({ type: "GetRegionPresence", region_id: w.street.id });
    expect(street).toMatchObject({ status: "fallback", staged: false, staging_id: null, region_name: "Mill Street" });
    expect(names(street.npcs_present)).toEqual(["Mira"]);
    expect(street.pcs_present).toEqual([{ character_id: w.pc.id, name: "Ayla", owner_participant_id: t.playerGrant.participant_id }]);

    // Entering the yard starts a staging that waits for the DM: the player sees the wait, nobody to talk to.
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.yard.id });
    const changed = await t.player.waitFor(ev("RegionPresenceChanged", (e) => e.presence.region_id === w.yard.id));
    expect(changed.event.presence).toMatchObject({ status: "pending", npcs_present: [], pcs_present: [{ character_id: w.pc.id }] });
    const leftStreet = await t.player.waitFor(ev("RegionPresenceChanged", (e) => e.presence.region_id === w.street.id));
    expect(leftStreet.event.presence.pcs_present).toEqual([]);
    const yard = await t.player.ok({ type: "GetRegionPresence", region_id: w.yard.id });
    expect(yard).toMatchObject({ status: "pending", npcs_present: [] });
    expect(yard.staging_id).toEqual(expect.any(String));
    const waits = await t.player.ok({ type: "ListMyWaits" });
    expect(waits.stagings).toEqual([{ staging_id: yard.staging_id, region_id: w.yard.id, region_name: "Mill Yard", character_ids: [w.pc.id] }]);

    // While it waits, speaking to Hask is refused in words, with its own reason; nothing changes.
    fakeLlm(sse(["Aye."]));
    const refused = await t.player.request({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.hask.id, text: "Hello" });
    expect(refused).toMatchObject({ status: "error", code: "FORBIDDEN", details: { reason: "not_here", absence: "staging_pending", npc_id: w.hask.id } });
    expect(refused.message).toBe("Hask is not here yet: the DM is deciding who is at Mill Yard");
    expect((await t.dm.ok({ type: "ListPendingDialogues" })).items).toEqual([]);

    // The DM stages Hask and Tom present, and the lurker present but hidden (the character itself is not hidden).
    const dmQueue = await t.dm.ok({ type: "ListDmQueue" });
    expect(dmQueue.stagings.map((s: any) => [s.staging.id, s.region_name])).toEqual([[yard.staging_id, "Mill Yard"]]);
    await t.dm.ok({
      type: "ApproveStaging",
      staging_id: yard.staging_id,
      npcs: [
        { character_id: w.hask.id, present: true },
        { character_id: w.tom.id, present: true },
        { character_id: w.lurker.id, present: true, hidden: true },
      ],
    });
    const approved = await t.player.waitFor(ev("RegionPresenceChanged", (e) => e.presence.status === "approved"));
    expect(names(approved.event.presence.npcs_present)).toEqual(["Hask", "Tom"]);
    const dmApproved = await t.dm.waitFor(ev("RegionPresenceChanged", (e) => e.presence.status === "approved"));
    expect(dmApproved.event.presence.npcs_present.find((n: any) => n.character_id === w.lurker.id)).toMatchObject({ hidden: true });
    expect(names((await t.player.ok({ type: "GetRegionPresence", region_id: w.yard.id })).npcs_present)).toEqual(["Hask", "Tom"]);
    expect((await t.dm.ok({ type: "ListDmQueue" })).stagings).toEqual([]);
    expect((await t.player.ok({ type: "ListMyWaits" })).stagings).toEqual([]);

    // The timeline says it in prose and names only whom players may see — for everyone.
    const story = (await t.player.ok({ type: "ListStoryEvents", kind: "staging_approved" })).items[0];
    expect(story.summary).toBe("Hask and Tom are at Mill Yard");
    expect(story.character_ids.sort()).toEqual([w.hask.id, w.tom.id].sort());
    const dmStory = (await t.dm.ok({ type: "ListStoryEvents", kind: "staging_approved" })).items[0];
    expect(dmStory.character_ids).not.toContain(w.lurker.id);

    // Now Hask may be spoken to; the lurker is refused (not here), like someone absent.
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.hask.id, text: "Hello" });
    expect(ex.status).toBe("generating");
    const lurker = await t.player.request({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.lurker.id, text: "Who are you?" });
    expect(lurker).toMatchObject({ code: "FORBIDDEN", message: "LURKER-NPC is not here", details: { reason: "not_here", absence: "not_staged_here" } });

    // PreStageRegion names nobody hidden either.
    await t.dm.ok({
      type: "PreStageRegion",
      region_id: w.street.id,
      npcs: [
        { character_id: w.lurker.id, present: true, hidden: true },
        { character_id: w.mira.id, present: true },
      ],
    });
    expect((await t.player.ok({ type: "ListStoryEvents", kind: "staging_approved" })).items[0].summary).toBe("Mira is at Mill Street");

    // Nothing a player or spectator received, read or replays names the lurker.
    await fence(t, t.player, t.spectator);
    for (const s of [t.player, t.spectator]) {
      // (Events: the player's own refused request names whom it asked for.)
      const events = s.frames.slice(from[s.grant.token]).filter((f) => f.type === "Event");
      expect(JSON.stringify(events)).not.toContain(w.lurker.id);
      expect(JSON.stringify(events)).not.toContain("LURKER");
      expect(JSON.stringify(await s.ok({ type: "ListPlayLog", limit: 200 }))).not.toContain("LURKER");
      expect(JSON.stringify(await s.ok({ type: "ListStoryEvents" }))).not.toContain(w.lurker.id);
    }
    const replay = await TestSocket.open(t.playerGrant);
    const joined = await replay.join(since);
    expect(joined.replayed_events).toBeGreaterThan(5);
    expect(replay.events("StagingApproved").length).toBeGreaterThan(0);
    expect(JSON.stringify(replay.frames)).not.toContain(w.lurker.id);
    // The DMs' log says who hides there.
    const dmLog = await t.dm.ok({ type: "ListPlayLog" });
    expect(dmLog.entries.find((e: any) => e.kind === "presence" && e.region?.region_id === w.yard.id).text).toBe(
      "Hask and Tom are at Mill Yard (hidden: LURKER-NPC)",
    );
    replay.close();
    t.close();
  });
});

describe("presence follows the DM's edits", () => {
  it("placing, killing or hiding an NPC in a fallback region sends RegionPresenceChanged; a hidden NPC's moves reach DMs only", async () => {
    const t = await table();
    const w = await mill(t);
    const from = t.player.frames.length;
    const ghost = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "GHOST-NPC", hidden: true, region_id: w.street.id } });
    await t.dm.ok({ type: "UpdateCharacter", character_id: w.tom.id, data: { region_id: w.street.id } });
    const placed = await t.player.waitFor(
      ev("RegionPresenceChanged", (e) => e.presence.npcs_present.some((n: any) => n.name === "Tom")),
      5000,
      from,
    );
    expect(placed.event.presence).toMatchObject({ region_id: w.street.id, status: "fallback" });
    expect(names(placed.event.presence.npcs_present)).toEqual(["Mira", "Tom"]);
    // What the page lists is what the server accepts: Tom may be spoken to now.
    fakeLlm(sse(["Aye."]));
    expect((await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.tom.id, text: "Hi Tom" })).status).toBe("generating");
    await t.dm.ok({ type: "UpdateCharacter", character_id: w.mira.id, data: { is_alive: false } });
    const dead = await t.player.waitFor(
      ev("RegionPresenceChanged", (e) => !e.presence.npcs_present.some((n: any) => n.name === "Mira")),
      5000,
      from,
    );
    expect(names(dead.event.presence.npcs_present)).toEqual(["Tom"]);
    expect((await t.player.request({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.mira.id, text: "Mira?" })).message).toBe("Mira is dead");
    const dmSees = await t.dm.waitFor(ev("RegionPresenceChanged", (e) => e.presence.npcs_present.some((n: any) => n.character_id === ghost.id)));
    expect(dmSees.event.presence.npcs_present.find((n: any) => n.character_id === ghost.id).hidden).toBe(true);
    const count = t.player.events("RegionPresenceChanged").length;
    await t.dm.ok({ type: "UpdateCharacter", character_id: ghost.id, data: { region_id: w.yard.id } });
    await fence(t, t.player);
    expect(t.player.events("RegionPresenceChanged").length).toBe(count);
    expect(JSON.stringify(t.player.frames.slice(from))).not.toContain(ghost.id);
    t.close();
  });
});

describe("the play log", () => {
  it("tells the table's history in words; live entries and the read are the same; DM-only things never reach players", async () => {
    const t = await table();
    const w = await mill(t);
    const other = await joinSession(t.dmGrant.invite_code, "Player Two");
    const p2 = await TestSocket.open(other);
    await p2.join();
    const since = t.player.lastSeq();
    const ghost = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "GHOST-NPC", hidden: true } });

    // A public roll for the PC names the character; a DM's secret roll and a player's secret roll.
    await t.player.ok({ type: "RollDice", formula: "1d20+3", character_id: w.pc.id });
    const dmSecret = await t.dm.ok({ type: "RollDice", formula: "1d6", visibility: "dm" });
    const playerSecret = await t.player.ok({ type: "RollDice", formula: "2d8", visibility: "self", character_id: w.pc.id });
    // A public roll for a hidden NPC: players see the roll, not whom it was for (issue 17, break 9).
    const ghostRoll = await t.dm.ok({ type: "RollDice", formula: "1d12", character_id: ghost.id });
    // A DM-only timeline entry, and a public one.
    await t.dm.ok({ type: "CreateStoryEvent", data: { summary: "SECRET-MARKER the duke is a vampire", hidden: true } });
    await t.dm.ok({ type: "CreateStoryEvent", data: { summary: "Night falls" } });
    // A scene change, and moving.
    const scene = await t.dm.ok({ type: "CreateScene", data: { name: "Dusk at the mill" } });
    await t.dm.ok({ type: "SetActiveScene", scene_id: scene.id });
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.yard.id });
    await fence(t, t.player, t.spectator, p2);

    const log = async (s: TestSocket) => (await s.ok({ type: "ListPlayLog", limit: 200 })).entries as any[];
    const dmLog = await log(t.dm);
    const texts = dmLog.map((e) => e.text);
    // Newest first.
    expect(dmLog.map((e) => e.id)).toEqual([...dmLog.map((e) => e.id)].sort().reverse());
    const roll = dmLog.find((e) => e.kind === "roll" && e.roll.formula === "1d20+3");
    expect(roll).toMatchObject({
      text: `Ayla rolled 1d20+3: ${roll.roll.total}`,
      character_id: w.pc.id,
      character_name: "Ayla",
      participant_id: t.playerGrant.participant_id,
      audience: "all",
    });
    expect(roll.roll.terms[0].dice).toHaveLength(1);
    expect(texts).toContain(`Dungeon Master rolled 1d6: ${dmSecret.total} (secret)`);
    expect(texts).toContain(`Ayla rolled 2d8: ${playerSecret.total} (secret)`);
    expect(texts).toContain(`GHOST-NPC rolled 1d12: ${ghostRoll.total}`);
    expect(texts).toContain("SECRET-MARKER the duke is a vampire");
    expect(texts).toEqual(expect.arrayContaining(["Night falls", "Ayla left Mill Street", "Ayla arrived at Mill Yard"]));

    // The player: its own secret roll, not the DM's; the ghost's roll without the ghost; no hidden marker.
    const playerLog = await log(t.player);
    const playerTexts = playerLog.map((e) => e.text);
    expect(playerTexts).toContain(`Ayla rolled 2d8: ${playerSecret.total} (secret)`);
    expect(playerTexts).toContain(`Dungeon Master rolled 1d12: ${ghostRoll.total}`);
    expect(playerTexts).toEqual(expect.arrayContaining(["Night falls", "Ayla left Mill Street", "Ayla arrived at Mill Yard"]));
    expect(playerLog.find((e) => e.kind === "scene")).toMatchObject({ text: "The scene is now 'Dusk at the mill'", scene_id: scene.id });
    expect(playerLog.find((e) => e.kind === "arrival")).toMatchObject({
      character_id: w.pc.id,
      character_name: "Ayla",
      region: { region_id: w.yard.id, region_name: "Mill Yard" },
    });
    for (const s of [t.player, t.spectator, p2]) {
      const entries = await log(s);
      const text = JSON.stringify(entries);
      expect(text).not.toContain("SECRET-MARKER");
      expect(text).not.toContain(ghost.id);
      expect(text).not.toContain("GHOST-NPC");
      expect(text).not.toContain(dmSecret.id);
      // Live and read back are the same entries (by id and content).
      const live = s.events("PlayLogged").map((f) => f.event.entry);
      expect(live.length).toBeGreaterThan(3);
      const byId = new Map(entries.map((e) => [e.id, e]));
      for (const l of live) expect(byId.get(l.id)).toEqual(l);
      expect(JSON.stringify(s.frames)).not.toContain(ghost.id);
      expect(JSON.stringify(s.frames)).not.toContain("SECRET-MARKER");
    }
    // Another player and a spectator do not see the player's secret roll.
    for (const s of [t.spectator, p2]) expect(JSON.stringify(await log(s))).not.toContain(playerSecret.id);
    for (const s of [t.spectator, p2]) expect(JSON.stringify(s.frames)).not.toContain(playerSecret.id);

    // On replay too.
    for (const grant of [t.playerGrant, t.spectatorGrant]) {
      const replay = await TestSocket.open(grant);
      await replay.join(since);
      const frames = JSON.stringify(replay.frames);
      expect(replay.events("PlayLogged").length).toBeGreaterThan(3);
      expect(frames).not.toContain(ghost.id);
      expect(frames).not.toContain("SECRET-MARKER");
      expect(frames).not.toContain(dmSecret.id);
      replay.close();
    }
    p2.close();
    t.close();
  });

  it("dialogue turns carry the words; a DM's draft never reaches players; a DM-written reply says the DM", async () => {
    const t = await table();
    const w = await mill(t, { auto_approve_staging: false, dialogue_approval: true });
    fakeLlm(sse(["DRAFT-WORDS of Mira"]));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.mira.id, text: "Any news?" });
    await t.dm.waitFor(ev("DialogueApprovalRequired", (e) => e.exchange.id === ex.id));
    // The DM's queue has the draft; the player's waits have the dialogue, without the draft.
    const queue = await t.dm.ok({ type: "ListDmQueue" });
    expect(queue.dialogue_drafts.map((d: any) => [d.id, d.dm_draft])).toEqual([[ex.id, "DRAFT-WORDS of Mira"]]);
    const waits = await t.player.ok({ type: "ListMyWaits" });
    expect(waits.dialogues.map((d: any) => d.id)).toEqual([ex.id]);
    expect(JSON.stringify(waits)).not.toContain("DRAFT-WORDS");
    expect(JSON.stringify(await t.player.ok({ type: "ListPlayLog" }))).not.toContain("DRAFT-WORDS");

    await t.dm.ok({ type: "ApproveDialogue", exchange_id: ex.id, decision: "edit", text: "The mill burned." });
    const spoken = await t.player.waitFor(ev("PlayLogged", (e) => e.entry.dialogue?.speaker === "npc"));
    expect(spoken.event.entry).toMatchObject({
      kind: "dialogue",
      text: "Mira: “The mill burned.”",
      dialogue: { exchange_id: ex.id, npc_name: "Mira", pc_name: "Ayla", words: "The mill burned.", source_label: "the DM" },
    });
    const said = await t.player.waitFor(ev("NpcSpeaks", (e) => e.exchange.id === ex.id));
    expect(said.event.turns.find((x: any) => x.speaker === "npc").provider).toBe("dm");
    const entries = (await t.player.ok({ type: "ListPlayLog" })).entries;
    expect(entries.filter((e: any) => e.kind === "dialogue").map((e: any) => e.text)).toEqual(["Mira: “The mill burned.”", "Ayla to Mira: “Any news?”"]);
    expect(JSON.stringify(entries)).not.toContain("DRAFT-WORDS");
    expect((await t.dm.ok({ type: "ListDmQueue" })).dialogue_drafts).toEqual([]);
    await fence(t, t.player, t.spectator);
    for (const s of [t.player, t.spectator]) expect(JSON.stringify(s.frames)).not.toContain("DRAFT-WORDS");
    t.close();
  });

  it("pages back in time across many entries, newest first, without gaps or repeats; a Batch's entries commit with it (or not)", async () => {
    const t = await table();
    const rolls = [];
    for (let i = 0; i < 7; i++) rolls.push(await t.player.ok({ type: "RollDice", formula: `1d${i + 2}` }));
    // A Batch of three rolls: three entries; an atomic Batch that fails: none.
    const batch = await t.player.ok({ type: "Batch", operations: [1, 2, 3].map((n) => ({ type: "RollDice", formula: `${n}d6` })) });
    expect(batch.results).toHaveLength(3);
    const failed = await t.player.request({
      type: "Batch",
      atomic: true,
      operations: [
        { type: "RollDice", formula: "5d6" },
        { type: "RollDice", formula: "2x6" },
      ],
    });
    expect(failed.status).toBe("error");
    const seen: any[] = [];
    let before: string | null | undefined;
    let pages = 0;
    do {
      const page = await t.spectator.ok({ type: "ListPlayLog", limit: 4, ...(before ? { before } : {}) });
      expect(page.entries.length).toBeLessThanOrEqual(4);
      seen.push(...page.entries);
      before = page.next_before;
      pages++;
    } while (before);
    expect(pages).toBe(3);
    expect(seen.map((e) => e.roll.formula)).toEqual(["3d6", "2d6", "1d6", "1d8", "1d7", "1d6", "1d5", "1d4", "1d3", "1d2"]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(10);
    expect(JSON.stringify(seen)).not.toContain("5d6");
    expect((await t.dm.request({ type: "ListPlayLog", limit: 0 })).code).toBe("VALIDATION_ERROR");
    t.close();
  });

  it("survives the object's eviction (D1, not the object's memory)", async () => {
    const t = await table();
    // (A player creating its PC is bound by the DM's bounds too.)
    expect(await t.player.request({ type: "CreateCharacter", data: { kind: "pc", name: "Cheat", stats: { dex: 1000 } } })).toMatchObject({
      code: "VALIDATION_ERROR",
      details: { reason: "stat_out_of_bounds" },
    });
    const r = await t.player.ok({ type: "RollDice", formula: "1d20" });
    const before = (await t.player.ok({ type: "ListPlayLog" })).entries;
    await t.evict();
    const again = await TestSocket.open(t.playerGrant);
    await again.join();
    const after = (await again.ok({ type: "ListPlayLog" })).entries;
    expect(after).toEqual(before);
    expect(after[0].roll.id).toBe(r.id);
    again.close();
  });
});

describe("challenges at the table", () => {
  async function climb(t: T, extra: Record<string, unknown> = {}) {
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero", stats: { dex: 2 } } });
    const c = await t.dm.ok({
      type: "CreateChallenge",
      data: {
        name: "Climb",
        check_stat: "dex",
        difficulty: { kind: "dc", value: 12 },
        outcomes: { success: "Up", failure: "Down", critical_failure: "You fall badly" },
        ...extra,
      },
    });
    return { hero, c };
  }

  it("the challenge decides the dice and the DM sets which stats players may change (issue 17, break 2)", async () => {
    const t = await table();
    const { hero, c } = await climb(t);
    const attempt = await t.dm.ok({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id });
    // Choosing one's own dice is refused and changes nothing.
    const chosen = await t.player.request({ type: "SubmitChallengeRoll", challenge_id: c.id, formula: "1d2+100" });
    expect(chosen).toMatchObject({ code: "VALIDATION_ERROR", details: { reason: "dice_fixed", suggested_dice: "1d20" } });
    expect((await t.dm.ok({ type: "ListChallengeAttempts", challenge_id: c.id })).items[0]).toMatchObject({ id: attempt.id, status: "prompted", version: 1 });
    // Out of the DM's bounds (by default any stat, -10 to 30) is refused; raising it within them after the prompt changes nothing.
    expect(await t.player.request({ type: "SetCharacterStat", character_id: hero.id, stat: "dex", value: 1000 })).toMatchObject({
      code: "VALIDATION_ERROR",
      details: { reason: "stat_out_of_bounds", min: -10, max: 30 },
    });
    expect(await t.player.request({ type: "UpdateCharacter", character_id: hero.id, data: { stats: { dex: 1000 } } })).toMatchObject({
      code: "VALIDATION_ERROR",
    });
    expect((await t.player.ok({ type: "SetCharacterStat", character_id: hero.id, stat: "dex", value: 30 })).stats.dex).toBe(30);
    expect((await t.dm.request({ type: "UpdateSessionSettings", data: { player_stat_edits: { stats: ["dex"], min: 5, max: 1 } } })).code).toBe(
      "VALIDATION_ERROR",
    );
    await t.dm.ok({ type: "UpdateSessionSettings", data: { player_stat_edits: { stats: ["hp"], min: 0, max: 20 } } });
    expect(await t.player.request({ type: "SetCharacterStat", character_id: hero.id, stat: "dex", value: 3 })).toMatchObject({
      code: "FORBIDDEN",
      details: { reason: "stat_locked" },
    });
    expect(await t.player.request({ type: "SetCharacterStat", character_id: hero.id, stat: "hp", value: 1000 })).toMatchObject({
      code: "VALIDATION_ERROR",
      details: { reason: "stat_out_of_bounds" },
    });
    expect((await t.player.ok({ type: "SetCharacterStat", character_id: hero.id, stat: "hp", value: 12 })).stats).toEqual({ dex: 30, hp: 12 });
    expect((await t.player.ok({ type: "GetCharacter", character_id: hero.id })).stats).toEqual({ dex: 30, hp: 12 });
    // DMs are not bound.
    expect((await t.dm.ok({ type: "SetCharacterStat", character_id: hero.id, stat: "dex", value: 1000 })).stats.dex).toBe(1000);

    // The same dice written another way are fine; the DM sees the breakdown.
    const rolled = await t.player.ok({ type: "SubmitChallengeRoll", challenge_id: c.id, formula: "D20" });
    expect(rolled.roll.formula).toBe("1d20");
    // The modifier is dex as it was when the DM asked for the roll.
    expect(rolled.modifier).toBe(2);
    expect(rolled.total).toBe(rolled.roll.total + 2);
    const queue = await t.dm.ok({ type: "ListDmQueue" });
    expect(queue.challenge_rolls).toEqual([
      {
        attempt: expect.objectContaining({ id: attempt.id, status: "rolled" }),
        challenge_name: "Climb",
        character_name: "Hero",
        breakdown: `1d20 (${rolled.roll.total}) + 2 (dex) = ${rolled.total}`,
      },
    ]);
    expect(queue.challenge_rolls[0].attempt.roll.terms[0].dice).toHaveLength(1);
    const logged = (await t.dm.ok({ type: "ListPlayLog" })).entries.find((e: any) => e.kind === "challenge_roll");
    expect(logged).toMatchObject({
      text: `Hero rolled 1d20 for 'Climb': ${rolled.roll.total} + 2 (dex) = ${rolled.total}`,
      modifier: 2,
      roll: { formula: "1d20" },
    });
    expect((await t.player.ok({ type: "ListMyWaits" })).challenges.map((c: any) => c.attempt.status)).toEqual(["rolled"]);
    t.close();
  });

  it("five outcomes with narration; a challenge hidden again after its trigger is resolved for its player only (issue 17, break 11)", async () => {
    const t = await table();
    const { hero, c } = await climb(t);
    const other = await joinSession(t.dmGrant.invite_code, "Player Two");
    const p2 = await TestSocket.open(other);
    await p2.join();
    const attempt = await t.dm.ok({ type: "TriggerChallenge", challenge_id: c.id, character_id: hero.id });
    expect((await t.player.ok({ type: "ListMyWaits" })).challenges).toEqual([
      { attempt: expect.objectContaining({ id: attempt.id, status: "prompted" }), challenge_name: "Climb", character_name: "Hero", breakdown: null },
    ]);
    await t.player.ok({ type: "SubmitChallengeRoll", challenge_id: c.id });
    // Hidden again before it is resolved.
    await t.dm.ok({ type: "UpdateChallenge", challenge_id: c.id, data: { hidden: true } });
    const resolved = await t.dm.ok({
      type: "ResolveChallenge",
      attempt_id: attempt.id,
      outcome: "critical_failure",
      narration: "SECRET-NARRATION the rope snaps",
    });
    expect(resolved.outcome).toBe("critical_failure");
    const mine = await t.player.waitFor(ev("ChallengeResolved"));
    expect(mine.event).toMatchObject({ outcome: "critical_failure", outcome_text: "You fall badly", narration: "SECRET-NARRATION the rope snaps" });
    const entry = (await t.player.ok({ type: "ListPlayLog" })).entries.find((e: any) => e.kind === "challenge_outcome");
    expect(entry.text).toBe("Hero faced 'Climb': critical failure. You fall badly. SECRET-NARRATION the rope snaps");
    await fence(t, p2, t.spectator);
    for (const s of [p2, t.spectator]) {
      expect(JSON.stringify(s.frames)).not.toContain("SECRET-NARRATION");
      expect(s.events("ChallengeResolved")).toHaveLength(0);
      expect(JSON.stringify(await s.ok({ type: "ListPlayLog" }))).not.toContain("SECRET-NARRATION");
      expect(JSON.stringify(await s.ok({ type: "ListStoryEvents" }))).not.toContain("Climb");
    }
    expect((await t.dm.ok({ type: "ListDmQueue" })).challenge_rolls).toEqual([]);

    // A visible challenge resolved as a partial success is told to everyone.
    const c2 = await t.dm.ok({ type: "CreateChallenge", data: { name: "Swim", outcomes: { partial: "You make it, soaked" } } });
    const a2 = await t.dm.ok({ type: "TriggerChallenge", challenge_id: c2.id, character_id: hero.id });
    await t.dm.ok({ type: "ResolveChallenge", attempt_id: a2.id, outcome: "partial", narration: "Cold water" });
    const told = await p2.waitFor(ev("ChallengeResolved"));
    expect(told.event).toMatchObject({ outcome: "partial", outcome_text: "You make it, soaked" });
    expect((await p2.ok({ type: "ListPlayLog" })).entries[0].text).toBe("Hero faced 'Swim': partial success. You make it, soaked. Cold water");
    p2.close();
    t.close();
  });

  it("writes a roll's breakdown with every die, dropped ones marked", () => {
    const faces = [17, 4, 5, 2];
    const rolled = rollTerms(parseFormula("2d20kh1+1d6-1d4+2"), () => faces.shift()!);
    expect(rollBreakdown(rolled)).toBe("2d20kh1 (17, ~4~) + 1d6 (5) - 1d4 (2) + 2");
  });

  it("suggests critical failures: a natural 1 on a d20, 96+ on a d100, 2 on 2d6 (failure without a text)", () => {
    const challenge = (difficulty: Challenge["difficulty"], critical_failure = "Ouch"): Challenge =>
      ({ difficulty, outcomes: { success: "s", failure: "f", partial: "", critical: "", critical_failure } }) as Challenge;
    const roll = (sides: number, ...values: number[]): DiceRoll =>
      ({
        total: values.reduce((a, b) => a + b, 0),
        terms: [{ term: `${values.length}d${sides}`, sign: 1, kind: "dice", sides, dice: values.map((value) => ({ value, kept: true })), value: 0 }],
      }) as unknown as DiceRoll;
    expect(suggestOutcome(challenge({ kind: "dc", value: 5 }), roll(20, 1), 10).outcome).toBe("critical_failure");
    expect(suggestOutcome(challenge({ kind: "dc", value: 5 }, ""), roll(20, 1), 10).outcome).toBe("failure");
    expect(suggestOutcome(challenge({ kind: "percentage", value: 50 }), roll(100, 97), 0).outcome).toBe("critical_failure");
    expect(suggestOutcome(challenge({ kind: "percentage", value: 50 }), roll(100, 80), 0).outcome).toBe("failure");
    expect(suggestOutcome(challenge({ kind: "narrative" }), roll(6, 1, 1), 0).outcome).toBe("critical_failure");
    expect(suggestOutcome(challenge({ kind: "narrative" }), roll(6, 1, 2), 0).outcome).toBe("failure");
  });
});
