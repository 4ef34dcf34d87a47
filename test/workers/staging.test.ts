import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GameSession } from "../../src/session/GameSession";
import type { Entry, Scheduler } from "../../src/session/scheduler";
import { sessionStub } from "../../src/worker/auth";
import { TestSocket, settle, table } from "./helpers";

type T = Awaited<ReturnType<typeof table>>;
const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

afterEach(() => vi.restoreAllMocks());

function advanceClock(ms: number) {
  const real = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => real() + ms);
}

function timerEntry(sessionId: string, stagingId: string): Promise<Entry | undefined> {
  return runInDurableObject(sessionStub(env, sessionId), (instance: GameSession) =>
    (instance as unknown as { scheduler: Scheduler }).scheduler.get(`timer:staging.timeout:${stagingId}`),
  );
}

/** Street ⇄ hall ⇄ cellar; NPCs of the hall: a barkeep (work), a regular (frequents), a hidden spy (home), a foe (avoids). */
async function world(t: T, settings: Record<string, unknown>) {
  await t.dm.ok({ type: "UpdateSessionSettings", data: settings });
  const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Inn" } });
  const region = (name: string) => t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name } });
  const [street, hall, cellar] = [await region("Street"), await region("Hall"), await region("Cellar")];
  await t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: street.id, to_region_id: hall.id } });
  await t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: hall.id, to_region_id: cellar.id } });
  const npc = (name: string, hidden = false) => t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name, hidden } });
  const [barkeep, regular, spy, foe] = [await npc("Barkeep"), await npc("Regular"), await npc("SPY-NPC", true), await npc("Foe")];
  const rel = (c: any, relationship_type: string) => t.dm.ok({ type: "SetNpcRegionRelationship", character_id: c.id, region_id: hall.id, relationship_type });
  await rel(barkeep, "work");
  await rel(regular, "frequents");
  await rel(spy, "home");
  await rel(foe, "avoids");
  const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
  return { street, hall, cellar, barkeep, regular, spy, foe, pc };
}

const names = (npcs: any[]) => npcs.map((n) => n.name).sort();

describe("staging", () => {
  it("a PC entering an unstaged region: rule-based proposal to DMs, pending to the player; approval hides hidden NPCs from players, live and on replay; reused until its TTL ends", async () => {
    const t = await table();
    const w = await world(t, { auto_approve_staging: false });
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.street.id });
    const moved = await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.hall.id });
    expect(moved.character.region_id).toBe(w.hall.id);

    const request = await t.dm.waitFor(ev("StagingApprovalRequest", (e) => e.staging.region_id === w.hall.id));
    const staging = request.event.staging;
    expect(request.event.region_name).toBe("Hall");
    expect(staging).toMatchObject({ status: "pending", waiting_character_ids: [w.pc.id], auto_approve_at: null });
    const byId = Object.fromEntries(staging.proposal.map((n: any) => [n.character_id, n]));
    expect(byId[w.barkeep.id]).toMatchObject({ present: true, hidden: false, reasoning: "works here" });
    expect(byId[w.regular.id]).toMatchObject({ present: true });
    expect(byId[w.spy.id]).toMatchObject({ present: true, hidden: true });
    expect(byId[w.foe.id]).toMatchObject({ present: false, reasoning: "avoids this place" });
    const pending = await t.player.waitFor(ev("StagingPending", (e) => e.region_id === w.hall.id));
    expect(pending.event).toMatchObject({ staging_id: staging.id, region_name: "Hall", timeout_seconds: null });
    await settle();
    expect(t.player.events("StagingApprovalRequest")).toHaveLength(0);
    expect(t.spectator.events("StagingApprovalRequest")).toHaveLength(0);
    expect(t.spectator.events("StagingPending")).toHaveLength(0);

    // A DM who joins later finds what is pending.
    const pendingList = await t.dm.ok({ type: "ListStagings", status: "pending" });
    expect(pendingList.items.map((s: any) => s.region_id).sort()).toEqual([w.street.id, w.hall.id].sort());
    const lateDm = await TestSocket.open(t.dmGrant);
    await lateDm.join();
    const snapshot = await lateDm.ok({ type: "GetSessionSnapshot" });
    expect(snapshot.pending_stagings.map((s: any) => s.id)).toContain(staging.id);
    lateDm.close();
    expect(await t.player.ok({ type: "GetSessionSnapshot" })).not.toHaveProperty("pending_stagings");

    for (const s of [t.player, t.spectator]) {
      expect((await s.request({ type: "ApproveStaging", staging_id: staging.id })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "PreStageRegion", region_id: w.hall.id, npcs: [] })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "ListStagings" })).code).toBe("FORBIDDEN");
    }
    expect((await t.dm.request({ type: "ApproveStaging", staging_id: staging.id, npcs: [{ character_id: w.pc.id, present: true }] })).code).toBe(
      "VALIDATION_ERROR",
    );

    const approved = await t.dm.ok({ type: "ApproveStaging", staging_id: staging.id, ttl_minutes: 60 });
    expect(approved).toMatchObject({ status: "approved", source: "rule", ttl_minutes: 60, approved_by: t.dmGrant.participant_id });
    const dmView = await t.dm.waitFor(ev("StagingApproved", (e) => e.staging_id === staging.id));
    expect(names(dmView.event.npcs_present)).toEqual(["Barkeep", "Regular", "SPY-NPC"]);
    expect(dmView.event.npcs_present.find((n: any) => n.name === "SPY-NPC").hidden).toBe(true);
    for (const s of [t.player, t.spectator]) {
      const e = await s.waitFor(ev("StagingApproved", (x) => x.staging_id === staging.id));
      expect(names(e.event.npcs_present)).toEqual(["Barkeep", "Regular"]);
      expect(e.event).not.toHaveProperty("staging");
    }
    const scene = await t.player.waitFor(ev("PcSceneChanged"));
    expect(scene.event).toMatchObject({ pc_id: w.pc.id, region: { id: w.hall.id } });
    expect(names(scene.event.npcs_present)).toEqual(["Barkeep", "Regular"]);
    expect((await t.dm.request({ type: "ApproveStaging", staging_id: staging.id })).code).toBe("CONFLICT");

    // Presence as each role may know it.
    expect(names((await t.player.ok({ type: "GetRegionPresence", region_id: w.hall.id })).npcs_present)).toEqual(["Barkeep", "Regular"]);
    expect(names((await t.dm.ok({ type: "GetRegionPresence", region_id: w.hall.id })).npcs_present)).toEqual(["Barkeep", "Regular", "SPY-NPC"]);
    expect(await t.player.ok({ type: "GetRegionPresence", region_id: w.cellar.id })).toMatchObject({
      region_id: w.cellar.id,
      status: "fallback",
      staged: false,
      npcs_present: [],
    });

    // Reused: leaving and coming back shows the same presence without asking the DM again.
    const requests = t.dm.events("StagingApprovalRequest").length;
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.street.id });
    const from = t.player.frames.length;
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.hall.id });
    const again = await t.player.waitFor(ev("PcSceneChanged"), 5000, from);
    expect(names(again.event.npcs_present)).toEqual(["Barkeep", "Regular"]);
    await settle();
    // One more request only: the street's pending staging got the PC as a waiter again.
    expect(t.dm.events("StagingApprovalRequest").filter((f) => f.event.staging.region_id === w.hall.id)).toHaveLength(1);
    expect(t.dm.events("StagingApprovalRequest").length).toBe(requests + 1);

    // The hidden NPC is absent from everything players received, live and on replay.
    await settle();
    for (const s of [t.player, t.spectator]) expect(JSON.stringify(s.frames)).not.toContain(w.spy.id);
    const replay = await TestSocket.open(t.playerGrant);
    // From just before the first staging (the whole session is more than the tests' replay cap).
    const joined = await replay.join(t.player.events("StagingPending")[0]!.seq - 1);
    expect(joined.replayed_events).toBeGreaterThan(10);
    expect(replay.events("StagingApproved").length).toBeGreaterThan(0);
    expect(JSON.stringify(replay.frames)).not.toContain(w.spy.id);
    expect(JSON.stringify(replay.frames)).not.toContain("SPY-NPC");
    replay.close();

    // Expired (TTL of one minute): a new staging is asked for.
    await t.dm.ok({ type: "PreStageRegion", region_id: w.cellar.id, npcs: [], ttl_minutes: 1 });
    advanceClock(2 * 60_000);
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.cellar.id });
    await t.dm.waitFor(ev("StagingApprovalRequest", (e) => e.staging.region_id === w.cellar.id));
    t.close();
  });

  it("PreStageRegion stages ahead: the PC sees the DM's choice at once", async () => {
    const t = await table();
    const w = await world(t, { auto_approve_staging: false });
    const pre = await t.dm.ok({
      type: "PreStageRegion",
      region_id: w.hall.id,
      npcs: [
        { character_id: w.foe.id, present: true },
        { character_id: w.barkeep.id, present: false },
        { character_id: w.spy.id, present: true },
      ],
    });
    expect(pre).toMatchObject({ status: "approved", source: "prestaged", ttl_minutes: 180 });
    expect(pre.npcs.find((n: any) => n.character_id === w.spy.id).hidden).toBe(true);
    expect((await t.dm.request({ type: "PreStageRegion", region_id: "nowhere", npcs: [] })).code).toBe("NOT_FOUND");
    expect((await t.dm.request({ type: "PreStageRegion", region_id: w.hall.id, npcs: [{ character_id: "ghost", present: true }] })).code).toBe("NOT_FOUND");
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.hall.id });
    const scene = await t.player.waitFor(ev("PcSceneChanged"));
    expect(names(scene.event.npcs_present)).toEqual(["Foe"]);
    await settle();
    expect(t.dm.events("StagingApprovalRequest")).toHaveLength(0);
    expect(t.player.events("StagingPending")).toHaveLength(0);
    t.close();
  });

  it("with auto_approve_staging the proposal is approved by the alarm after staging_timeout_seconds; an answered staging is left alone", async () => {
    const t = await table();
    expect((await t.dm.request({ type: "UpdateSessionSettings", data: { staging_timeout_seconds: 1 } })).code).toBe("VALIDATION_ERROR");
    const w = await world(t, { auto_approve_staging: true, staging_timeout_seconds: 5 });
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.hall.id });
    const request = await t.dm.waitFor(ev("StagingApprovalRequest"));
    const staging = request.event.staging;
    const pending = await t.player.waitFor(ev("StagingPending"));
    expect(pending.event.timeout_seconds).toBe(5);
    const entry = await timerEntry(t.dmGrant.session_id, staging.id);
    expect(entry!.due).toBe(staging.auto_approve_at);

    advanceClock(6_000);
    expect(await runDurableObjectAlarm(sessionStub(env, t.dmGrant.session_id))).toBe(true);
    const dmView = await t.dm.waitFor(ev("StagingApproved"));
    expect(dmView.event.staging).toMatchObject({ id: staging.id, source: "auto", approved_by: null });
    const story = await t.dm.waitFor(ev("StoryEventCreated", (e) => e.story_event.kind === "staging_approved"));
    expect(story.event.story_event).toMatchObject({ created_by: null, region_id: w.hall.id });
    // An NPC staged hidden is named nowhere in the timeline, not even in the DMs' copy (they have the staging).
    expect(story.event.story_event.character_ids).not.toContain(w.spy.id);
    const playerStory = await t.player.waitFor(ev("StoryEventCreated", (e) => e.story_event.kind === "staging_approved"));
    expect(playerStory.event.story_event.character_ids).not.toContain(w.spy.id);
    const scene = await t.player.waitFor(ev("PcSceneChanged"));
    expect(names(scene.event.npcs_present)).toEqual(["Barkeep", "Regular"]);
    expect(await timerEntry(t.dmGrant.session_id, staging.id)).toBeUndefined();

    // Answered before its time: the approval cancels the timer; nothing more happens.
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.cellar.id });
    const second = (await t.dm.waitFor(ev("StagingApprovalRequest", (e) => e.staging.region_id === w.cellar.id))).event.staging;
    expect(await timerEntry(t.dmGrant.session_id, second.id)).toBeDefined();
    await t.dm.ok({ type: "ApproveStaging", staging_id: second.id, npcs: [] });
    expect(await timerEntry(t.dmGrant.session_id, second.id)).toBeUndefined();
    t.close();
  });

  it("a pending staging survives eviction: the alarm wakes the object and auto-approves it", async () => {
    const t = await table();
    const w = await world(t, { auto_approve_staging: true, staging_timeout_seconds: 5 });
    await t.player.ok({ type: "MoveToRegion", character_id: w.pc.id, region_id: w.hall.id });
    const staging = (await t.dm.waitFor(ev("StagingApprovalRequest"))).event.staging;
    await t.player.waitFor(ev("StagingPending"));
    const lastSeen = t.player.lastSeq();
    await t.evict();

    advanceClock(6_000);
    expect(await runDurableObjectAlarm(sessionStub(env, t.dmGrant.session_id))).toBe(true);
    const player = await TestSocket.open(t.playerGrant);
    await player.join(lastSeen);
    const approved = await player.waitFor(ev("StagingApproved", (e) => e.staging_id === staging.id));
    expect(names(approved.event.npcs_present)).toEqual(["Barkeep", "Regular"]);
    await player.waitFor(ev("PcSceneChanged"));
    expect(JSON.stringify(player.frames)).not.toContain(w.spy.id);
    const dm = await TestSocket.open(t.dmGrant);
    await dm.join();
    const list = await dm.ok({ type: "ListStagings", status: "approved" });
    expect(list.items).toMatchObject([{ id: staging.id, source: "auto" }]);
    player.close();
    dm.close();
    await Promise.all([player.waitClosed(), dm.waitClosed()]);
    await settle(300);
  });
});
