import type { Character } from "../protocol";
import type { HandlerContext } from "../engine/context";
import { regionPresence } from "./staging";
import { REGION } from "./world-tables";

/** Why an NPC cannot be spoken to by a PC now (null: it can). */
export type Absence = "npc_hidden" | "npc_inactive" | "npc_dead" | "pc_nowhere" | "staging_pending" | "not_staged_here" | "not_in_same_region";

/**
 * Whether an NPC is present with a PC, for dialogue: the same rule GetRegionPresence and
 * RegionPresenceChanged tell clients (staging.regionPresence). The NPC must be active, alive and
 * not hidden (hidden NPCs are absent for everyone, DMs included: the answer is said to the whole
 * table, which must not learn a hidden NPC exists). Then the PC's region decides: its approved
 * staging (the DM's word), nobody while a staging waits for the DM, else the NPCs placed there.
 */
export async function npcAbsence(ctx: HandlerContext, pc: Character, npc: Character): Promise<Absence | null> {
  if (npc.hidden) return "npc_hidden";
  if (!npc.is_active) return "npc_inactive";
  if (!npc.is_alive) return "npc_dead";
  const region = pc.region_id ? await REGION.table.find(ctx, pc.region_id) : null;
  if (!region) return "pc_nowhere";
  const presence = await regionPresence(ctx, region);
  if (presence.status === "pending") return "staging_pending";
  if (presence.npcs_present.some((n) => n.character_id === npc.id && !n.hidden)) return null;
  return presence.status === "approved" ? "not_staged_here" : "not_in_same_region";
}

/** The refusal in words: "Hask is not here", and why when it helps. */
export function absenceMessage(absence: Absence, npc: Character, pc: Character, regionName: string | null): string {
  switch (absence) {
    case "staging_pending":
      return `${npc.name} is not here yet: the DM is deciding who is at ${regionName ?? "this place"}`;
    case "pc_nowhere":
      return `${pc.name} is nowhere yet: ${npc.name} is not here`;
    case "npc_dead":
      return `${npc.name} is dead`;
    default:
      return `${npc.name} is not here`;
  }
}
