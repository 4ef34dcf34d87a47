import type { Character } from "../protocol";

/** Why an NPC cannot be spoken to by a PC now (null: it can). */
export type Absence = "npc_hidden" | "npc_inactive" | "npc_dead" | "pc_nowhere" | "not_in_same_region";

/**
 * Whether an NPC is present with a PC, for dialogue. Until staging exists (who is present in a
 * region, approved by the DM) this is the rule: the NPC is active, alive, not hidden, and in the
 * same region as the PC. Hidden NPCs are absent for everyone, DMs included: the answer is said
 * to the whole table, which must not learn a hidden NPC exists. Staging replaces this one function.
 */
export function npcAbsence(pc: Character, npc: Character): Absence | null {
  if (npc.hidden) return "npc_hidden";
  if (!npc.is_active) return "npc_inactive";
  if (!npc.is_alive) return "npc_dead";
  if (!pc.region_id) return "pc_nowhere";
  if (npc.region_id !== pc.region_id) return "not_in_same_region";
  return null;
}
