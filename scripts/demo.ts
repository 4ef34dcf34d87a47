/**
 * The demo session `npm start` prepares: a small world seeded through the real protocol, as a DM
 * and a player would build it.
 */
import type { Requester } from "./ws-requester";

/** World content the DM creates. Returns ids later seeders may use. */
export async function seedAsDm(dm: Requester): Promise<{ npcs: Record<string, string> }> {
  const npc = (name: string, extra: Record<string, unknown> = {}) => dm({ type: "CreateCharacter", data: { kind: "npc", name, ...extra } });
  const mira = await npc("Mira Thornwood", {
    description: "Keeper of the Gilded Lantern inn; knows every rumour in Emberfall.",
    archetype: "mentor",
    stats: { charisma: 16, wisdom: 14 },
    dm_notes: "Owes the thieves' guild a favour she hopes never to repay.",
  });
  const tobin = await npc("Old Tobin", { description: "A retired cartographer with shaking hands and sharp eyes.", archetype: "herald", stats: { intelligence: 17 } });
  const stranger = await npc("The Hooded Stranger", {
    description: "Watches the common room from the darkest corner.",
    hidden: true,
    archetype: "shadow",
    dm_notes: "Agent of the Ashen Circle; reveals himself when the players ask about the old map.",
  });
  await dm({ type: "AddInventoryItem", character_id: tobin.id, data: { name: "Faded map of the Ember Hills", item_type: "quest", properties: { torn: true } } });
  await dm({ type: "AddInventoryItem", character_id: mira.id, data: { name: "Cellar key", item_type: "key" } });
  return { npcs: { mira: mira.id, tobin: tobin.id, stranger: stranger.id } };
}

/** The demo player's own character. */
export async function seedAsPlayer(player: Requester): Promise<{ pc: string }> {
  const pc = await player({
    type: "CreateCharacter",
    data: { kind: "pc", name: "Aria Vale", description: "A wandering bard looking for her missing brother.", stats: { dexterity: 15, charisma: 14 } },
  });
  await player({ type: "AddInventoryItem", character_id: pc.id, data: { name: "Lute", item_type: "instrument", equipped: true } });
  await player({ type: "AddInventoryItem", character_id: pc.id, data: { name: "Healing potion", item_type: "consumable", quantity: 2 } });
  return { pc: pc.id };
}
