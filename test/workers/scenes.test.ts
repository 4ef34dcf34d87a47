import { describe, expect, it } from "vitest";
import { HOOKS } from "../../src/domain/registry";
import { appendStoryEvent } from "../../src/domain/story";
import { TestSocket, joinSession, settle, table } from "./helpers";
import { uploadImage } from "./image-helpers";

type T = Awaited<ReturnType<typeof table>>;

const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

/** Street ⇄ hall (open), hall → cellar (locked), hall → attic (one way: attic → hall only). */
async function map(t: T) {
  const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Inn" } });
  const region = (name: string) => t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name } });
  const [street, hall, cellar, attic] = [await region("Street"), await region("Hall"), await region("Cellar"), await region("Attic")];
  const connect = (from: any, to: any, data: Record<string, unknown> = {}) =>
    t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: from.id, to_region_id: to.id, ...data } });
  await connect(street, hall);
  const trapdoor = await connect(hall, cellar, { is_locked: true, lock_description: "The trapdoor is padlocked" });
  await connect(attic, hall, { bidirectional: false });
  return { location, street, hall, cellar, attic, trapdoor };
}

describe("scenes", () => {
  it("a DM creates and edits scenes; directorial notes reach DMs only", async () => {
    const t = await table();
    const { location } = await map(t);
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const scene = await t.dm.ok({
      type: "CreateScene",
      data: {
        name: "Arrival",
        location_id: location.id,
        featured_character_ids: [npc.id, npc.id],
        directorial_notes: "Mira lies about the map",
        time_context: "evening",
      },
    });
    expect(scene).toMatchObject({ name: "Arrival", featured_character_ids: [npc.id], directorial_notes: "Mira lies about the map", version: 1 });
    const dmEvent = await t.dm.waitFor(ev("SceneCreated"));
    expect(dmEvent.event.scene.directorial_notes).toBe("Mira lies about the map");
    for (const s of [t.player, t.spectator]) {
      const e = await s.waitFor(ev("SceneCreated"));
      expect(e.event.scene.name).toBe("Arrival");
      expect(e.event.scene).not.toHaveProperty("directorial_notes");
      const got = await s.ok({ type: "GetScene", scene_id: scene.id });
      expect(got).not.toHaveProperty("directorial_notes");
      expect(got.featured_character_ids).toEqual([npc.id]);
    }
    const updated = await t.dm.ok({ type: "UpdateScene", scene_id: scene.id, data: { directorial_notes: "Mira tells the truth" }, expected_version: 1 });
    expect(updated.version).toBe(2);
    const pe = await t.player.waitFor(ev("SceneUpdated"));
    expect(JSON.stringify(pe)).not.toContain("Mira tells the truth");

    const stale = await t.dm.request({ type: "UpdateScene", scene_id: scene.id, data: { name: "x" }, expected_version: 1 });
    expect(stale.code).toBe("CONFLICT");
    expect((await t.dm.request({ type: "CreateScene", data: { name: "x", location_id: "missing" } })).code).toBe("NOT_FOUND");
    expect((await t.dm.request({ type: "CreateScene", data: { name: "x", featured_character_ids: ["ghost"] } })).code).toBe("NOT_FOUND");
    for (const s of [t.player, t.spectator]) {
      expect((await s.request({ type: "CreateScene", data: { name: "x" } })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "SetActiveScene", scene_id: scene.id })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: "a" })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "DeleteScene", scene_id: scene.id })).code).toBe("FORBIDDEN");
    }
    t.close();
  });

  it("players never learn the ids of hidden NPCs a scene features", async () => {
    const t = await table();
    const mira = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const shadow = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow", hidden: true } });
    const scene = await t.dm.ok({
      type: "CreateScene",
      data: { name: "Night", featured_character_ids: [mira.id, shadow.id], directorial_notes: "Shadow waits" },
    });
    expect(scene.featured_character_ids).toEqual([mira.id, shadow.id]);
    expect((await t.dm.waitFor(ev("SceneCreated"))).event.scene.featured_character_ids).toEqual([mira.id, shadow.id]);
    await t.dm.ok({ type: "SetActiveScene", scene_id: scene.id });
    const { asset: nightSky } = await uploadImage(t.dmGrant);
    await t.dm.ok({ type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: nightSky.id });
    expect((await t.dm.ok({ type: "GetScene", scene_id: scene.id })).featured_character_ids).toEqual([mira.id, shadow.id]);
    expect((await t.dm.ok({ type: "GetSessionSnapshot" })).current_scene).toMatchObject({
      featured_character_ids: [mira.id, shadow.id],
      directorial_notes: "Shadow waits",
    });
    for (const s of [t.player, t.spectator]) {
      expect((await s.waitFor(ev("SceneCreated"))).event.scene.featured_character_ids).toEqual([mira.id]);
      expect((await s.waitFor(ev("SceneChanged"))).event.scene.featured_character_ids).toEqual([mira.id]);
      expect((await s.waitFor(ev("SceneUpdate"))).event.scene.featured_character_ids).toEqual([mira.id]);
      expect((await s.ok({ type: "GetScene", scene_id: scene.id })).featured_character_ids).toEqual([mira.id]);
      expect((await s.ok({ type: "ListScenes" })).items[0].featured_character_ids).toEqual([mira.id]);
      expect((await s.ok({ type: "GetActiveScene" })).scene.featured_character_ids).toEqual([mira.id]);
      const snapshot = await s.ok({ type: "GetSessionSnapshot" });
      expect(snapshot.current_scene).toMatchObject({ id: scene.id, featured_character_ids: [mira.id] });
      expect(snapshot.current_scene).not.toHaveProperty("directorial_notes");
      await settle();
      expect(JSON.stringify(s.frames)).not.toContain(shadow.id);
    }
    t.close();
  });

  it("SetActiveScene tells everyone and writes the timeline; deleting the active scene ends it", async () => {
    const t = await table();
    const first = await t.dm.ok({ type: "CreateScene", data: { name: "Arrival", directorial_notes: "secret" } });
    const second = await t.dm.ok({ type: "CreateScene", data: { name: "The cellar" } });
    expect(await t.player.ok({ type: "GetActiveScene" })).toEqual({ scene: null });

    const r = await t.dm.ok({ type: "SetActiveScene", scene_id: first.id });
    expect(r.scene.id).toBe(first.id);
    for (const s of [t.dm, t.player, t.spectator]) {
      const e = await s.waitFor(ev("SceneChanged"));
      expect(e.event.scene.id).toBe(first.id);
      expect(e.event.previous_scene_id).toBeNull();
      const story = await s.waitFor(ev("StoryEventCreated", (x) => x.story_event.kind === "scene_changed"));
      expect(story.event.story_event).toMatchObject({ scene_id: first.id, hidden: false });
    }
    const playerChange = await t.player.waitFor(ev("SceneChanged"));
    expect(playerChange.event.scene).not.toHaveProperty("directorial_notes");

    await t.dm.ok({ type: "SetActiveScene", scene_id: second.id });
    const change = await t.spectator.waitFor(ev("SceneChanged", (e) => e.scene?.id === second.id));
    expect(change.event.previous_scene_id).toBe(first.id);
    expect((await t.player.ok({ type: "GetActiveScene" })).scene.id).toBe(second.id);
    const timeline = await t.player.ok({ type: "ListStoryEvents", kind: "scene_changed" });
    expect(timeline.items.map((e: any) => e.scene_id)).toEqual([second.id, first.id]);

    await t.dm.ok({ type: "DeleteScene", scene_id: second.id });
    await t.player.waitFor(ev("SceneDeleted", (e) => e.scene_id === second.id));
    const ended = await t.player.waitFor(ev("SceneChanged", (e) => e.scene === null));
    expect(ended.event.previous_scene_id).toBe(second.id);
    expect(await t.player.ok({ type: "GetActiveScene" })).toEqual({ scene: null });
    expect((await t.dm.request({ type: "SetActiveScene", scene_id: second.id })).code).toBe("NOT_FOUND");
    t.close();
  });

  it("SetSceneBackdrop sends SceneUpdate to everyone", async () => {
    const t = await table();
    const scene = await t.dm.ok({ type: "CreateScene", data: { name: "Arrival" } });
    expect((await t.dm.request({ type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: "asset-42" })).code).toBe("NOT_FOUND");
    const { asset } = await uploadImage(t.dmGrant);
    const after = await t.dm.ok({ type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: asset.id, expected_version: 1 });
    expect(after).toMatchObject({ backdrop_asset_id: asset.id, version: 2 });
    for (const s of [t.player, t.spectator]) {
      const e = await s.waitFor(ev("SceneUpdate"));
      expect(e.event.scene).toMatchObject({ id: scene.id, backdrop_asset_id: asset.id });
    }
    expect((await t.dm.request({ type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: null, expected_version: 1 })).code).toBe("CONFLICT");
    expect((await t.dm.ok({ type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: null })).backdrop_asset_id).toBeNull();
    t.close();
  });

  it("scenes page", async () => {
    const t = await table();
    for (const name of ["One", "Two", "Three"]) await t.dm.ok({ type: "CreateScene", data: { name } });
    const p1 = await t.player.ok({ type: "ListScenes", limit: 2 });
    const p2 = await t.player.ok({ type: "ListScenes", limit: 2, cursor: p1.next_cursor });
    expect([...p1.items, ...p2.items].map((s: any) => s.name)).toEqual(["One", "Two", "Three"]);
    expect(p2.next_cursor).toBeNull();
    t.close();
  });
});

describe("MoveToRegion", () => {
  it("a player moves its PC along open connections; everyone sees it, and the timeline records it", async () => {
    const t = await table();
    const { street, hall, cellar, attic, trapdoor } = await map(t);
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Aria" } });

    // Not yet on the map: may enter anywhere.
    const first = await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: street.id });
    expect(first.character).toMatchObject({ region_id: street.id, version: 2 });
    expect(first.region.id).toBe(street.id);
    const moved = await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id });
    expect(moved.character.region_id).toBe(hall.id);
    for (const s of [t.dm, t.spectator]) {
      await s.waitFor(ev("CharacterUpdated", (e) => e.character.id === pc.id && e.character.region_id === hall.id));
      const story = await s.waitFor(ev("StoryEventCreated", (e) => e.story_event.kind === "region_entered" && e.story_event.region_id === hall.id));
      expect(story.event.story_event).toMatchObject({ character_ids: [pc.id], summary: "Aria entered Hall", details: { from_region_id: street.id } });
    }

    const locked = await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: cellar.id });
    expect(locked.code).toBe("CONFLICT");
    expect(locked.message).toContain("The trapdoor is padlocked");
    expect(locked.details).toMatchObject({ reason: "connection_locked", region_connection_id: trapdoor.id });

    const oneWay = await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: attic.id });
    expect(oneWay.code).toBe("VALIDATION_ERROR");
    expect(oneWay.details.reason).toBe("not_connected");
    expect((await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id })).code).toBe("VALIDATION_ERROR");
    expect((await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: "nowhere" })).code).toBe("NOT_FOUND");

    // The DM unlocks the trapdoor: now the way is open.
    await t.dm.ok({ type: "UpdateRegionConnection", region_connection_id: trapdoor.id, data: { is_locked: false } });
    expect((await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: cellar.id })).character.region_id).toBe(cellar.id);
    expect(await t.spectator.ok({ type: "GetCharacter", character_id: pc.id })).toMatchObject({ region_id: cellar.id });
    t.close();
  });

  it("region-entry hooks (staging's entry point) run inside the move's transaction", async () => {
    const t = await table();
    const { street, hall } = await map(t);
    const calls: { character: string; from: string | null; to: string }[] = [];
    HOOKS.regionEntry.add({
      name: "test.calls",
      run: async (ctx, move) => {
        if (ctx.session.sessionId !== t.dmGrant.session_id) return;
        calls.push({ character: move.character.id, from: move.from?.id ?? null, to: move.to.id });
        await appendStoryEvent(ctx, { kind: "staging_approved", summary: `staging for ${move.to.name}`, hidden: true, region_id: move.to.id });
      },
    });
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Aria" } });
    await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: street.id });
    await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id });
    expect(calls).toEqual([
      { character: pc.id, from: null, to: street.id },
      { character: pc.id, from: street.id, to: hall.id },
    ]);
    const staged = await t.dm.waitFor(ev("StoryEventCreated", (e) => e.story_event.summary === "staging for Hall"));
    const moved = t.dm.events("CharacterUpdated").find((f) => f.event.character.region_id === hall.id)!;
    // Same commit: the hook's event directly follows the move's own.
    expect(staged.cause.request_id).toBe(moved.cause.request_id);
    await settle();
    expect(JSON.stringify(t.player.frames)).not.toContain("staging for");
    t.close();
  });

  it("only the owner or a DM moves a PC; NPCs do not move this way", async () => {
    const t = await table();
    const { street, hall } = await map(t);
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Aria" } });
    const otherGrant = await joinSession(t.dmGrant.invite_code, "Player Two");
    const other = await TestSocket.open(otherGrant);
    await other.join();
    expect((await other.request({ type: "MoveToRegion", character_id: pc.id, region_id: street.id })).code).toBe("FORBIDDEN");
    expect((await t.spectator.request({ type: "MoveToRegion", character_id: pc.id, region_id: street.id })).code).toBe("FORBIDDEN");

    expect((await t.dm.ok({ type: "MoveToRegion", character_id: pc.id, region_id: street.id })).character.region_id).toBe(street.id);
    await t.player.waitFor(ev("CharacterUpdated", (e) => e.character.region_id === street.id));

    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", region_id: street.id } });
    expect((await t.dm.request({ type: "MoveToRegion", character_id: npc.id, region_id: hall.id })).code).toBe("VALIDATION_ERROR");
    const hidden = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow", hidden: true } });
    expect((await t.player.request({ type: "MoveToRegion", character_id: hidden.id, region_id: hall.id })).code).toBe("NOT_FOUND");

    // A replayed move changes nothing and emits nothing new.
    const before = t.spectator.events("CharacterUpdated").length;
    const r1 = await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id }, "move-once");
    const r2 = await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id }, "move-once");
    expect(r1.status).toBe("success");
    expect(r2).toMatchObject({ status: "success", replayed: true });
    await settle();
    expect(t.spectator.events("CharacterUpdated").length).toBe(before + 1);
    other.close();
    t.close();
  });
});
