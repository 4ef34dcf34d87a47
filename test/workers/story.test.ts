import { describe, expect, it } from "vitest";
import { TestSocket, settle, table } from "./helpers";

const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

describe("story events (timeline)", () => {
  it("a DM marker reaches everyone; players and spectators cannot write", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const marker = await t.dm.ok({
      type: "CreateStoryEvent",
      data: { summary: "The party arrives in Emberfall", character_ids: [npc.id], tags: ["arrival"], game_time: "Day 1, dusk" },
    });
    expect(marker).toMatchObject({ kind: "dm_marker", hidden: false, character_ids: [npc.id], tags: ["arrival"], game_time: "Day 1, dusk", version: 1 });
    expect(marker.created_by).toBe(t.dmGrant.participant_id);
    for (const s of [t.player, t.spectator]) {
      const e = await s.waitFor(ev("StoryEventCreated"));
      expect(e.event.story_event.id).toBe(marker.id);
      expect((await s.request({ type: "CreateStoryEvent", data: { summary: "x" } })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "UpdateStoryEvent", story_event_id: marker.id, data: { summary: "x" } })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "SetStoryEventVisibility", story_event_id: marker.id, hidden: true })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "DeleteStoryEvent", story_event_id: marker.id })).code).toBe("FORBIDDEN");
    }
    const updated = await t.dm.ok({
      type: "UpdateStoryEvent",
      story_event_id: marker.id,
      data: { summary: "The party arrives at night" },
      expected_version: 1,
    });
    expect(updated).toMatchObject({ summary: "The party arrives at night", version: 2 });
    await t.player.waitFor(ev("StoryEventUpdated", (e) => e.story_event.version === 2));
    const stale = await t.dm.request({ type: "UpdateStoryEvent", story_event_id: marker.id, data: { summary: "x" }, expected_version: 1 });
    expect(stale.code).toBe("CONFLICT");
    expect(stale.details.current.version).toBe(2);

    expect((await t.dm.request({ type: "CreateStoryEvent", data: { summary: "x", character_ids: ["ghost"] } })).code).toBe("NOT_FOUND");
    expect((await t.dm.request({ type: "CreateStoryEvent", data: { summary: "x", region_id: "nowhere" } })).code).toBe("NOT_FOUND");
    expect((await t.dm.request({ type: "CreateStoryEvent", data: { summary: "x", kind: "party" } })).code).toBe("VALIDATION_ERROR");
    expect((await t.dm.request({ type: "UpdateStoryEvent", story_event_id: marker.id, data: { hidden: true } })).code).toBe("VALIDATION_ERROR");

    await t.dm.ok({ type: "DeleteStoryEvent", story_event_id: marker.id });
    await t.spectator.waitFor(ev("StoryEventDeleted", (e) => e.story_event_id === marker.id));
    expect((await t.player.request({ type: "GetStoryEvent", story_event_id: marker.id })).code).toBe("NOT_FOUND");
    t.close();
  });

  it("hidden story events never reach players, live or on replay; showing one delivers it", async () => {
    const t = await table();
    const startSeq = t.player.lastSeq();
    const secret = await t.dm.ok({ type: "CreateStoryEvent", data: { summary: "SECRET: the stranger follows the party", hidden: true } });
    await t.dm.waitFor(ev("StoryEventCreated", (e) => e.story_event.id === secret.id));
    await t.dm.ok({ type: "UpdateStoryEvent", story_event_id: secret.id, data: { summary: "SECRET: the stranger is an agent" } });
    await t.dm.waitFor(ev("StoryEventUpdated", (e) => e.story_event.id === secret.id));
    const open = await t.dm.ok({ type: "CreateStoryEvent", data: { summary: "A bell rings" } });
    await t.player.waitFor(ev("StoryEventCreated", (e) => e.story_event.id === open.id));
    await settle();

    for (const s of [t.player, t.spectator]) {
      expect(JSON.stringify(s.frames)).not.toContain("SECRET");
      expect((await s.request({ type: "GetStoryEvent", story_event_id: secret.id })).code).toBe("NOT_FOUND");
      expect((await s.ok({ type: "ListStoryEvents" })).items.map((e: any) => e.id)).toEqual([open.id]);
    }
    expect((await t.dm.ok({ type: "ListStoryEvents" })).items.map((e: any) => e.id)).toEqual([open.id, secret.id]);

    // Replay from before the secret: only what the player may see.
    const replay = await TestSocket.open(t.playerGrant);
    const joined = await replay.join(startSeq);
    expect(joined.resume).toBe("replayed");
    expect(replay.events("StoryEventCreated").map((f) => f.event.story_event.id)).toEqual([open.id]);
    expect(JSON.stringify(replay.frames)).not.toContain("SECRET");
    replay.close();

    // Shown: DMs get the update, players the creation.
    await t.dm.ok({ type: "SetStoryEventVisibility", story_event_id: secret.id, hidden: false, expected_version: 2 });
    const dmSees = await t.dm.waitFor(ev("StoryEventUpdated", (e) => e.story_event.id === secret.id && !e.story_event.hidden));
    expect(dmSees.event.story_event.version).toBe(3);
    for (const s of [t.player, t.spectator]) {
      const shown = await s.waitFor(ev("StoryEventCreated", (e) => e.story_event.id === secret.id));
      expect(shown.event.story_event.summary).toBe("SECRET: the stranger is an agent");
    }
    expect((await t.player.ok({ type: "GetStoryEvent", story_event_id: secret.id })).hidden).toBe(false);

    // Hidden again: players see it go.
    await t.dm.ok({ type: "SetStoryEventVisibility", story_event_id: secret.id, hidden: true });
    await t.player.waitFor(ev("StoryEventDeleted", (e) => e.story_event_id === secret.id));
    const laterSeq = t.player.lastSeq();
    await t.dm.ok({ type: "UpdateStoryEvent", story_event_id: secret.id, data: { summary: "SECRET again" } });
    await t.dm.ok({ type: "DeleteStoryEvent", story_event_id: secret.id });
    await t.dm.waitFor(ev("StoryEventDeleted", (e) => e.story_event_id === secret.id));
    await settle();
    const again = await TestSocket.open(t.playerGrant);
    await again.join(laterSeq);
    expect(JSON.stringify(again.frames)).not.toContain("SECRET again");
    expect(again.events().filter((f) => f.event.type.startsWith("StoryEvent"))).toEqual([]);
    again.close();
    t.close();
  });

  it("a visible entry does not show players the ids of hidden NPCs", async () => {
    const t = await table();
    const mira = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const shadow = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow", hidden: true } });
    const entry = await t.dm.ok({ type: "CreateStoryEvent", data: { summary: "Mira talks to someone", character_ids: [mira.id, shadow.id] } });
    expect(entry.character_ids).toEqual([mira.id, shadow.id]);
    expect((await t.dm.waitFor(ev("StoryEventCreated"))).event.story_event.character_ids).toEqual([mira.id, shadow.id]);
    for (const s of [t.player, t.spectator]) {
      expect((await s.waitFor(ev("StoryEventCreated"))).event.story_event.character_ids).toEqual([mira.id]);
      expect((await s.ok({ type: "GetStoryEvent", story_event_id: entry.id })).character_ids).toEqual([mira.id]);
      expect((await s.ok({ type: "ListStoryEvents" })).items[0].character_ids).toEqual([mira.id]);
      await settle();
      expect(JSON.stringify(s.frames)).not.toContain(shadow.id);
    }
    t.close();
  });

  it("lists newest first, page, and filter by kind, character and time", async () => {
    const t = await table();
    const a = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "A" } });
    const b = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "B" } });
    const made: any[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await t.dm.ok({
          type: "CreateStoryEvent",
          data: { summary: `entry ${i}`, character_ids: i % 2 ? [a.id, b.id] : [a.id], kind: i === 4 ? "custom" : "dm_marker" },
        }),
      );
    }
    const times = made.map((e) => e.created_at);
    expect(new Set(times).size).toBe(5);

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await t.player.ok({ type: "ListStoryEvents", limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.items.map((e: any) => e.summary));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(pages).toEqual([["entry 4", "entry 3"], ["entry 2", "entry 1"], ["entry 0"]]);

    const list = async (filter: Record<string, unknown>) => (await t.player.ok({ type: "ListStoryEvents", ...filter })).items.map((e: any) => e.summary);
    expect(await list({ kind: "custom" })).toEqual(["entry 4"]);
    expect(await list({ character_id: b.id })).toEqual(["entry 3", "entry 1"]);
    expect(await list({ character_id: a.id, kind: "dm_marker" })).toEqual(["entry 3", "entry 2", "entry 1", "entry 0"]);
    expect(await list({ from: times[1], to: times[3] })).toEqual(["entry 3", "entry 2", "entry 1"]);
    expect(await list({ from: times[4] + 1 })).toEqual([]);
    t.close();
  });
});
