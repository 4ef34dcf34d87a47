import { describe, expect, it } from "vitest";
import { seedAsDm, seedAsPlayer } from "../../scripts/demo";
import { TestSocket, createSession, settle, table } from "./helpers";

type T = Awaited<ReturnType<typeof table>>;

const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

/** Sends a request and reassembles its result, whether it came whole or in ResponseChunks. */
async function fetchResult(s: TestSocket, payload: Record<string, unknown>, requestId: string): Promise<{ result: any; chunks: number }> {
  const from = s.frames.length;
  s.send({ type: "Request", request_id: requestId, payload });
  const res = await s.waitFor((f) => f.type === "Response" && f.request_id === requestId, 20_000, from);
  if (res.result) return { result: res.result, chunks: 0 };
  const parts = s.frames.slice(from).filter((f) => f.type === "ResponseChunk" && f.request_id === requestId);
  expect(parts.map((p) => p.index)).toEqual([...Array(res.chunks).keys()]);
  return { result: JSON.parse(parts.map((p) => p.data).join("")), chunks: res.chunks };
}

/** A world with something of every kind, including hidden and DM-only things. */
async function buildWorld(t: T) {
  const dm = (p: Record<string, unknown>) => t.dm.ok(p);
  await dm({
    type: "UpdateWorld",
    data: { description: "A city of lanterns", rule_system: { system_type: "d100", stat_definitions: [{ key: "str", label: "Strength" }] } },
  });
  const inn = await dm({ type: "CreateLocation", data: { name: "Inn", location_type: "interior", atmosphere: "smoky" } });
  const market = await dm({ type: "CreateLocation", data: { name: "Market" } });
  const hall = await dm({ type: "CreateRegion", location_id: inn.id, data: { name: "Hall", is_spawn_point: true } });
  const cellar = await dm({ type: "CreateRegion", location_id: inn.id, data: { name: "Cellar" } });
  const square = await dm({ type: "CreateRegion", location_id: market.id, data: { name: "Square" } });
  await dm({ type: "UpdateLocation", location_id: inn.id, data: { default_region_id: hall.id } });
  await dm({ type: "CreateRegionConnection", data: { from_region_id: hall.id, to_region_id: cellar.id, is_locked: true, lock_description: "Padlocked" } });
  await dm({ type: "CreateRegionConnection", data: { from_region_id: square.id, to_region_id: hall.id } });
  const mira = await dm({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", dm_notes: "owes the guild", region_id: hall.id } });
  const shadow = await dm({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow", hidden: true } });
  await dm({ type: "AddInventoryItem", character_id: mira.id, data: { name: "Cellar key", item_type: "key" } });
  await dm({ type: "SetNpcRegionRelationship", character_id: mira.id, region_id: hall.id, relationship_type: "work", notes: "evenings" });
  await dm({ type: "SetNpcRegionRelationship", character_id: shadow.id, region_id: square.id, relationship_type: "frequents" });
  const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Aria" } });
  await t.player.ok({ type: "AddInventoryItem", character_id: pc.id, data: { name: "Lute", equipped: true } });
  await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: square.id });
  await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id });
  const scene = await dm({
    type: "CreateScene",
    data: { name: "Arrival", location_id: inn.id, featured_character_ids: [mira.id, shadow.id], directorial_notes: "Shadow watches" },
  });
  await dm({ type: "SetActiveScene", scene_id: scene.id });
  await dm({ type: "CreateGoal", data: { name: "Find the map" } });
  await dm({ type: "CreateStoryEvent", data: { summary: "Shadow arrives unseen", hidden: true, character_ids: [shadow.id] } });
  await dm({ type: "SetPromptTemplate", key: "dialogue.system", value: "Be {npc_name}." });
  return { inn, hall, mira, shadow, pc, scene };
}

/**
 * The document with every id replaced by a readable name of what it points at, arrays sorted:
 * two exports are equal when they describe the same world, whatever ids the entities got.
 */
function normalize(doc: any): any {
  const label = new Map<string, string>();
  const named: [string, (e: any) => string][] = [
    ["locations", (e) => e.name],
    ["regions", (e) => e.name],
    ["characters", (e) => e.name],
    ["scenes", (e) => e.name],
    ["goals", (e) => e.name],
    ["story_events", (e) => e.summary],
    ["inventory", (e) => e.name],
  ];
  for (const [k, name] of named) for (const e of doc[k]) label.set(e.id, `${k}:${name(e)}`);
  for (const c of doc.region_connections) label.set(c.id, `conn:${label.get(c.from_region_id)}->${label.get(c.to_region_id)}`);
  for (const r of doc.npc_region_relationships) label.set(r.id, `rel:${label.get(r.character_id)}@${label.get(r.region_id)}`);
  const { id: _i, version: _v, created_at: _c, updated_at: _u, ...world } = doc.world;
  const replace = (v: any): any =>
    typeof v === "string"
      ? (label.get(v) ?? v)
      : Array.isArray(v)
        ? v.map(replace).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
        : v && typeof v === "object"
          ? Object.fromEntries(
              Object.entries(v)
                .filter(([k]) => k !== "world_id")
                .map(([k, x]) => [k, replace(x)]),
            )
          : v;
  const { exported_at: _e, prompt_templates, ...rest } = doc;
  return replace({ ...rest, world, prompt_templates: prompt_templates.map(({ key, value }: any) => ({ key, value })) });
}

describe("world", () => {
  it("everyone reads the world; a DM updates it and everyone is told", async () => {
    const t = await table();
    for (const s of [t.player, t.spectator]) expect((await s.ok({ type: "GetWorld" })).name).toBe("Test World");
    const w = await t.dm.ok({ type: "GetWorld" });
    const updated = await t.dm.ok({
      type: "UpdateWorld",
      data: { name: "Emberfall", rule_system: { system_type: "narrative", stat_definitions: [{ key: "grit", label: "Grit", default: 2 }] } },
      expected_version: w.version,
    });
    expect(updated).toMatchObject({ name: "Emberfall", version: w.version + 1, rule_system: { system_type: "narrative" } });
    for (const s of [t.player, t.spectator]) await s.waitFor(ev("WorldUpdated", (e) => e.world.name === "Emberfall"));
    expect((await t.dm.request({ type: "UpdateWorld", data: { name: "x" }, expected_version: w.version })).code).toBe("CONFLICT");
    expect((await t.dm.request({ type: "UpdateWorld", data: { rule_system: { system_type: "d6", stat_definitions: [] } } })).code).toBe("VALIDATION_ERROR");
    for (const s of [t.player, t.spectator]) {
      expect((await s.request({ type: "UpdateWorld", data: { name: "x" } })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "ExportWorld" })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "ImportWorld", document: {} })).code).toBe("VALIDATION_ERROR");
    }
    t.close();
  });

  it("export → import (replace) → export is the same world", async () => {
    const t = await table();
    await buildWorld(t);
    const first = await t.dm.ok({ type: "ExportWorld" });
    expect(first.characters.map((c: any) => c.name).sort()).toEqual(["Aria", "Mira", "Shadow"]);
    expect(first.characters.find((c: any) => c.name === "Mira").dm_notes).toBe("owes the guild");
    expect(first.scenes[0].directorial_notes).toBe("Shadow watches");
    expect(first.story_events.some((e: any) => e.hidden)).toBe(true);
    expect(first.world.active_scene_id).toBe(first.scenes[0].id);

    const r = await t.dm.ok({ type: "ImportWorld", document: first, mode: "replace" });
    expect(r.counts).toMatchObject({
      locations: 2,
      regions: 3,
      region_connections: 2,
      npc_region_relationships: 2,
      scenes: 1,
      goals: 1,
      characters: 3,
      inventory: 2,
      prompt_templates: 1,
    });
    for (const s of [t.player, t.spectator]) await s.waitFor(ev("WorldImported"));
    const second = await t.dm.ok({ type: "ExportWorld" });
    expect(second.locations[0].id).not.toBe(first.locations[0].id);
    expect(normalize(second)).toEqual(normalize(first));

    // The imported world is live: the player still owns its PC and plays on.
    const pc = second.characters.find((c: any) => c.name === "Aria");
    expect(pc.owner_participant_id).toBe(t.playerGrant.participant_id);
    const square = second.regions.find((x: any) => x.name === "Square");
    expect((await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: square.id })).character.region_id).toBe(square.id);
    expect((await t.player.ok({ type: "GetActiveScene" })).scene.name).toBe("Arrival");
    t.close();
  });

  it("imports into another session's empty world; refuses a non-empty one or a broken document, changing nothing", async () => {
    const t = await table();
    await buildWorld(t);
    const doc = await t.dm.ok({ type: "ExportWorld" });

    const other = await createSession("Elsewhere");
    const os = await TestSocket.open(other);
    await os.join();
    await os.ok({ type: "ImportWorld", document: doc });
    const copy = await os.ok({ type: "ExportWorld" });
    // A PC's player is not in that session: the PC is kept without one.
    expect(copy.characters.find((c: any) => c.name === "Aria").owner_participant_id).toBeNull();
    const strip = (d: any) =>
      normalize({
        ...d,
        characters: d.characters.map((c: any) => ({ ...c, owner_participant_id: null })),
        story_events: d.story_events.map((e: any) => ({ ...e, created_by: null })),
      });
    expect(strip(copy)).toEqual(strip(doc));
    expect(copy.world.name).toBe("Test World");

    const again = await os.request({ type: "ImportWorld", document: doc });
    expect(again.code).toBe("CONFLICT");

    const broken = { ...doc, regions: [...doc.regions, { ...doc.regions[0], id: "r-new", location_id: "no-such-location" }] };
    const bad = await os.request({ type: "ImportWorld", document: broken, mode: "replace" });
    expect(bad.code).toBe("VALIDATION_ERROR");
    expect(bad.message).toContain("no-such-location");
    const twice = { ...doc, goals: [...doc.goals, doc.goals[0]] };
    expect((await os.request({ type: "ImportWorld", document: twice, mode: "replace" })).details.issues[0].path).toBe("document.goals.1.id");
    const badPrompt = { ...doc, prompt_templates: [{ ...doc.prompt_templates[0], value: "Be {npc_secret}." }] };
    const refused = await os.request({ type: "ImportWorld", document: badPrompt, mode: "replace" });
    expect(refused.code).toBe("VALIDATION_ERROR");
    expect(refused.details.unknown).toEqual(["npc_secret"]);
    expect(normalize(await os.ok({ type: "ExportWorld" }))).toEqual(normalize(copy));
    os.close();
    t.close();
  });

  it("an NPC's deletion takes its region relationships out of lists and exports", async () => {
    const t = await table();
    const { mira, hall } = await buildWorld(t);
    expect((await t.dm.ok({ type: "ListNpcRegionRelationships", character_id: mira.id })).items).toHaveLength(1);
    await t.dm.ok({ type: "DeleteCharacter", character_id: mira.id });
    expect((await t.dm.ok({ type: "ListNpcRegionRelationships", region_id: hall.id })).items).toEqual([]);
    const doc = await t.dm.ok({ type: "ExportWorld" });
    expect(doc.npc_region_relationships).toHaveLength(1);
    await t.dm.ok({ type: "ImportWorld", document: doc, mode: "replace" });
    t.close();
  });

  it("the npm start demo seeds a small but real world", async () => {
    const t = await table();
    const { npcs } = await seedAsDm((p) => t.dm.ok(p));
    const { pc } = await seedAsPlayer((p) => t.player.ok(p));
    const doc = await t.dm.ok({ type: "ExportWorld" });
    expect(doc.locations).toHaveLength(2);
    expect(doc.regions.length).toBeGreaterThanOrEqual(4);
    expect(doc.region_connections.some((c: any) => c.is_locked)).toBe(true);
    expect(doc.npc_region_relationships.length).toBeGreaterThan(0);
    expect(doc.goals).toHaveLength(2);
    expect(doc.world.active_scene_id).toBe(doc.scenes[0].id);
    const common = doc.regions.find((r: any) => r.name === "Common Room");
    expect(doc.characters.find((c: any) => c.id === pc).region_id).toBe(common.id);
    // Mira is where Aria arrives, so the demo player has someone to talk to (docs/dialogue.md).
    expect(doc.characters.find((c: any) => c.id === npcs.mira).region_id).toBe(common.id);
    // The player's timeline: the arrival, the scene and Aria's entrance, not the hidden entry.
    const timeline = await t.player.ok({ type: "ListStoryEvents" });
    expect(timeline.items.map((e: any) => e.kind)).toEqual(["region_entered", "dm_marker", "scene_changed"]);
    expect((await t.dm.ok({ type: "ListStoryEvents" })).items).toHaveLength(4);
    expect(JSON.stringify(t.player.frames)).not.toContain(npcs.stranger);
    t.close();
  });

  it("a large export arrives in ResponseChunks and reassembles", async () => {
    const t = await table();
    const text = "lantern light ".repeat(1_400); // ~19.6k characters
    for (let i = 0; i < 60; i++) await t.dm.ok({ type: "CreateLocation", data: { name: `Place ${i}`, description: text } });
    const { result, chunks } = await fetchResult(t.dm, { type: "ExportWorld" }, "export-big");
    expect(chunks).toBeGreaterThan(1);
    expect(result.status).toBe("success");
    expect(result.data.locations).toHaveLength(60);
    expect(result.data.locations[59].description).toBe(text);

    // An import frame may be larger than the 64 KiB of ordinary requests (up to the batch cap).
    const part = { ...result.data, locations: result.data.locations.slice(0, 30) };
    expect(JSON.stringify(part).length).toBeGreaterThan(500_000);
    const other = await createSession("Copy");
    const os = await TestSocket.open(other);
    await os.join();
    expect((await os.ok({ type: "ImportWorld", document: part })).counts.locations).toBe(30);
    expect((await os.ok({ type: "ListLocations", limit: 200 })).items).toHaveLength(30);
    os.close();
    await settle(50);
    t.close();
  });
});
