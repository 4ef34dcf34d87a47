import { describe, expect, it } from "vitest";
import { settle, table } from "./helpers";

const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

/** Every character id a frame or result names, anywhere in it (as JSON text). */
const mentions = (value: unknown, id: string) => JSON.stringify(value).includes(id);

describe("leaks: ids of hidden or deleted NPCs never reach players", () => {
  it("a hidden NPC featured in a scene and a story event, then deleted, is named nowhere a player looks", async () => {
    const t = await table();
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Ada" } });
    const spy = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Spy", hidden: true } });
    const scene = await t.dm.ok({ type: "CreateScene", data: { name: "Ambush", featured_character_ids: [pc.id, spy.id] } });
    await t.dm.ok({ type: "SetActiveScene", scene_id: scene.id });
    await t.dm.ok({ type: "CreateStoryEvent", data: { summary: "Watched", character_ids: [pc.id, spy.id] } });
    await t.dm.ok({ type: "DeleteCharacter", character_id: spy.id });

    const reads = [
      await t.player.ok({ type: "GetScene", scene_id: scene.id }),
      await t.player.ok({ type: "ListScenes" }),
      await t.player.ok({ type: "GetActiveScene" }),
      await t.player.ok({ type: "GetSessionSnapshot" }),
      await t.player.ok({ type: "ListStoryEvents" }),
      await t.spectator.ok({ type: "GetScene", scene_id: scene.id }),
    ];
    for (const r of reads) expect(mentions(r, spy.id)).toBe(false);
    // The visible PC stays named.
    expect((await t.player.ok({ type: "GetScene", scene_id: scene.id })).featured_character_ids).toEqual([pc.id]);
    const timeline = await t.player.ok({ type: "ListStoryEvents", kind: "dm_marker" });
    expect(timeline.items[0].character_ids).toEqual([pc.id]);
    await settle();
    expect(mentions(t.player.frames, spy.id)).toBe(false);
    // DMs keep their whole record.
    expect((await t.dm.ok({ type: "GetScene", scene_id: scene.id })).featured_character_ids).toEqual([pc.id, spy.id]);
    t.close();
  });

  it("a Batch that hides an NPC and features it in a new scene tells players nothing of it (either order)", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mole" } });
    const hide = { type: "UpdateCharacter", character_id: npc.id, data: { hidden: true } };
    const first = await t.dm.ok({ type: "Batch", operations: [hide, { type: "CreateScene", data: { name: "Before", featured_character_ids: [npc.id] } }] });
    const unhide = { type: "UpdateCharacter", character_id: npc.id, data: { hidden: false } };
    await t.dm.ok(unhide);
    const second = await t.dm.ok({
      type: "Batch",
      operations: [
        { type: "CreateScene", data: { name: "After", featured_character_ids: [npc.id] } },
        { type: "CreateStoryEvent", data: { summary: "Seen", character_ids: [npc.id] } },
        hide,
      ],
    });
    const created = await t.player.waitFor(ev("SceneCreated", (e) => e.scene.id === second.results[0].id));
    expect(created.event.scene.featured_character_ids).toEqual([]);
    const story = await t.player.waitFor(ev("StoryEventCreated", (e) => e.story_event.id === second.results[1].id));
    expect(story.event.story_event.character_ids).toEqual([]);
    const before = t.player.events("SceneCreated").find((f) => f.event.scene.id === first.results[1].id)!;
    expect(before.event.scene.featured_character_ids).toEqual([]);
    // Between the batches the NPC was visible: the player learnt of it then, and of its going.
    const dmCreated = await t.dm.waitFor(ev("SceneCreated", (e) => e.scene.id === second.results[0].id));
    expect(dmCreated.event.scene.featured_character_ids).toEqual([npc.id]);
    await settle();
    const afterHiding = t.player.frames.slice(t.player.frames.indexOf(created));
    expect(afterHiding.filter((f) => f.type === "Event" && f.event.type !== "CharacterDeleted" && mentions(f, npc.id))).toEqual([]);
    t.close();
  });

  it("ListStoryEvents{character_id} answers a player the same for a hidden NPC and an unknown id", async () => {
    const t = await table();
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Ada" } });
    const spy = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Spy", hidden: true } });
    await t.dm.ok({ type: "CreateStoryEvent", data: { summary: "Met", character_ids: [pc.id, spy.id] } });
    const hidden = await t.player.ok({ type: "ListStoryEvents", character_id: spy.id });
    const unknown = await t.player.ok({ type: "ListStoryEvents", character_id: "no-such-character" });
    expect(hidden).toEqual(unknown);
    expect(hidden.items).toEqual([]);
    // Visible characters still filter, and DMs still find the hidden NPC's entries.
    expect((await t.player.ok({ type: "ListStoryEvents", character_id: pc.id })).items).toHaveLength(1);
    expect((await t.dm.ok({ type: "ListStoryEvents", character_id: spy.id })).items).toHaveLength(1);
    t.close();
  });
});
