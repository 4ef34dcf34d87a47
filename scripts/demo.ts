/**
 * The demo session `npm start` prepares: a small world seeded through the real protocol, as a DM
 * and a player would build it.
 */
import { placeholderPng } from "../src/providers/images/offline";

/** Sends one request and resolves with its data (the SDK's `request`, or a test socket's). */
export type Requester = (payload: { type: string; [k: string]: unknown }) => Promise<any>;

/** World content the DM creates. Returns ids later seeders may use. */
export async function seedAsDm(dm: Requester): Promise<{ npcs: Record<string, string> }> {
  const npc = (name: string, extra: Record<string, unknown> = {}) => dm({ type: "CreateCharacter", data: { kind: "npc", name, ...extra } });
  const mira = await npc("Mira Thornwood", {
    description: "Keeper of the Gilded Lantern inn; knows every rumour in Emberfall.",
    archetype: "mentor",
    stats: { charisma: 16, wisdom: 14 },
    dm_notes: "Owes the thieves' guild a favour she hopes never to repay.",
  });
  const tobin = await npc("Old Tobin", {
    description: "A retired cartographer with shaking hands and sharp eyes.",
    archetype: "herald",
    stats: { intelligence: 17 },
  });
  const stranger = await npc("The Hooded Stranger", {
    description: "Watches the common room from the darkest corner.",
    hidden: true,
    archetype: "shadow",
    dm_notes: "Agent of the Ashen Circle; reveals himself when the players ask about the old map.",
  });
  await dm({
    type: "AddInventoryItem",
    character_id: tobin.id,
    data: { name: "Faded map of the Ember Hills", item_type: "quest", properties: { torn: true } },
  });
  await dm({ type: "AddInventoryItem", character_id: mira.id, data: { name: "Cellar key", item_type: "key" } });
  const { regions } = await seedWorld(dm, { mira: mira.id, tobin: tobin.id, stranger: stranger.id });
  // Where they are now (until staging decides it): the demo player finds Mira to talk to.
  await dm({ type: "UpdateCharacter", character_id: mira.id, data: { region_id: regions.common } });
  await dm({ type: "UpdateCharacter", character_id: tobin.id, data: { region_id: regions.stall } });
  return { npcs: { mira: mira.id, tobin: tobin.id, stranger: stranger.id } };
}

/**
 * The world around the NPCs: two locations with regions and connections (one locked), where the
 * NPCs belong, the opening scene (made active), goals and the first timeline entries.
 */
export async function seedWorld(
  dm: Requester,
  npcs: { mira: string; tobin: string; stranger: string },
): Promise<{ regions: Record<string, string>; scene: string }> {
  await dm({
    type: "UpdateWorld",
    data: {
      description: "Emberfall, a mountain town of lanterns and rumours, cut off from the lowlands by an early storm.",
      rule_system: {
        system_type: "d20",
        stat_definitions: ["strength", "dexterity", "constitution", "intelligence", "wisdom", "charisma"].map((key) => ({
          key,
          label: key[0]!.toUpperCase() + key.slice(1),
          default: 10,
        })),
      },
    },
  });
  const inn = await dm({
    type: "CreateLocation",
    data: {
      name: "The Gilded Lantern",
      location_type: "interior",
      description: "Emberfall's oldest inn.",
      atmosphere: "Warm, smoky, loud with travellers waiting out the storm.",
    },
  });
  const market = await dm({
    type: "CreateLocation",
    data: {
      name: "Emberfall Market",
      location_type: "exterior",
      description: "A sloping square of stalls under oilcloth awnings.",
      atmosphere: "Wind, rain and the smell of roasting chestnuts.",
    },
  });
  const region = (location: { id: string }, name: string, data: Record<string, unknown> = {}) =>
    dm({ type: "CreateRegion", location_id: location.id, data: { name, ...data } });
  const common = await region(inn, "Common Room", { is_spawn_point: true, description: "Long tables, a roaring hearth, a corner nobody sits in." });
  const kitchen = await region(inn, "Kitchen", { description: "Copper pots and Mira's ledger." });
  const cellar = await region(inn, "Cellar", { description: "Barrels, cobwebs and a door that should not be there.", atmosphere: "Cold and damp." });
  const square = await region(market, "Market Square", { is_spawn_point: true });
  const stall = await region(market, "Cartographer's Stall", { description: "Old Tobin's maps flap under a canvas roof." });
  await dm({ type: "UpdateLocation", location_id: inn.id, data: { default_region_id: common.id } });
  await dm({ type: "UpdateLocation", location_id: market.id, data: { default_region_id: square.id } });
  const connect = (from: { id: string }, to: { id: string }, data: Record<string, unknown> = {}) =>
    dm({ type: "CreateRegionConnection", data: { from_region_id: from.id, to_region_id: to.id, ...data } });
  await connect(common, kitchen);
  await connect(kitchen, cellar, { is_locked: true, lock_description: "A heavy trapdoor, padlocked. Mira keeps the key." });
  await connect(square, stall);
  await connect(square, common);

  const relate = (character_id: string, region_id: string, relationship_type: string, notes?: string) =>
    dm({ type: "SetNpcRegionRelationship", character_id, region_id, relationship_type, ...(notes ? { notes } : {}) });
  await relate(npcs.mira, common.id, "work", "from noon until the last guest leaves");
  await relate(npcs.mira, kitchen.id, "home");
  await relate(npcs.tobin, stall.id, "work", "mornings");
  await relate(npcs.tobin, common.id, "frequents", "evenings, by the hearth");
  await relate(npcs.stranger, common.id, "frequents", "the darkest corner");
  await relate(npcs.stranger, square.id, "avoids");

  const scene = await dm({
    type: "CreateScene",
    data: {
      name: "A Stormy Arrival",
      location_id: inn.id,
      time_context: "Evening, storm raging",
      description: "Travellers crowd the Gilded Lantern while thunder rolls over the pass.",
      featured_character_ids: [npcs.mira, npcs.tobin, npcs.stranger],
      directorial_notes: "Let the players settle in. The Stranger only moves when someone mentions the map.",
    },
  });
  await dm({ type: "SetActiveScene", scene_id: scene.id });
  await dm({ type: "CreateGoal", data: { name: "Find Aria's missing brother", description: "He was last seen heading for the Ember Hills." } });
  await dm({
    type: "CreateGoal",
    data: { name: "Recover the map of the Ember Hills", description: "Old Tobin's map shows a path the Ashen Circle wants hidden." },
  });
  await dm({
    type: "CreateStoryEvent",
    data: { summary: "An early storm closes the mountain pass; travellers crowd into Emberfall.", game_time: "Day 1, dusk", tags: ["storm"] },
  });
  await dm({
    type: "CreateStoryEvent",
    data: {
      summary: "The Hooded Stranger arrives and asks Mira, quietly, about an old map.",
      hidden: true,
      character_ids: [npcs.stranger, npcs.mira],
      game_time: "Day 1, dusk",
    },
  });
  return { regions: { common: common.id, kitchen: kitchen.id, cellar: cellar.id, square: square.id, stall: stall.id }, scene: scene.id };
}

/** The demo player's own character. */
export async function seedAsPlayer(player: Requester): Promise<{ pc: string }> {
  const pc = await player({
    type: "CreateCharacter",
    data: { kind: "pc", name: "Aria Vale", description: "A wandering bard looking for her missing brother.", stats: { dexterity: 15, charisma: 14 } },
  });
  await player({ type: "AddInventoryItem", character_id: pc.id, data: { name: "Lute", item_type: "instrument", equipped: true } });
  await player({ type: "AddInventoryItem", character_id: pc.id, data: { name: "Healing potion", item_type: "consumable", quantity: 2 } });
  // Aria walks in from the storm: her first step on the map (and on the timeline).
  const regions: { items: { id: string; name: string }[] } = await player({ type: "ListRegions", limit: 200 });
  const entrance = regions.items.find((r) => r.name === "Common Room");
  if (!entrance) throw new Error("demo world has no Common Room: seedAsDm must run first");
  await player({ type: "MoveToRegion", character_id: pc.id, region_id: entrance.id });
  return { pc: pc.id };
}

/** Uploads one image through POST /assets (the SDK's `uploadAsset`), making it an entity's image. */
export type Uploader = (
  bytes: Uint8Array,
  opts: { label: string; entity: { kind: "character" | "scene" | "location" | "region"; id: string }; image: "portrait" | "backdrop" },
) => Promise<unknown>;

/** A few images through the real upload route: two NPC portraits and the opening scene's backdrop (offline placeholders). */
export async function seedImages(dm: Requester, upload: Uploader, npcs: Record<string, string>): Promise<void> {
  const portraits: [string, string][] = [
    ["mira", "Mira Thornwood, innkeeper of the Gilded Lantern"],
    ["tobin", "Old Tobin, retired cartographer"],
  ];
  for (const [key, prompt] of portraits) {
    const png = await placeholderPng({ prompt, negative_prompt: "", width: 512, height: 768, seed: 7 });
    await upload(png, { label: prompt, entity: { kind: "character", id: npcs[key]! }, image: "portrait" });
  }
  const { scene } = await dm({ type: "GetActiveScene" });
  if (!scene) return;
  const backdrop = await placeholderPng({ prompt: "A stormy evening at the Gilded Lantern", negative_prompt: "", width: 768, height: 512, seed: 7 });
  await upload(backdrop, { label: "A stormy evening at the Gilded Lantern", entity: { kind: "scene", id: scene.id }, image: "backdrop" });
}
