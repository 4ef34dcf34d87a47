import type { Character } from "../protocol";
import type { HandlerContext } from "../engine/context";
import { stagedNpcs } from "./staging";

/** Why an NPC cannot be spoken to by a PC now (null: it can). */
export type Absence = "npc_hidden" | "npc_inactive" | "npc_dead" | "pc_nowhere" | "not_staged_here" | "not_in_same_region";

/**
 * Whether an NPC is present with a PC, for dialogue. The NPC must be active, alive and not hidden
 * (hidden NPCs are absent for everyone, DMs included: the answer is said to the whole table, which
 * must not learn a hidden NPC exists). Then the region's valid staging — the DM's word on who is
 * there — decides; a region without one (never entered, or its staging expired or still awaiting the
 * DM) falls back to where the NPC itself is: the same region as the PC.
 */
export async function npcAbsence(ctx: HandlerContext, pc: Character, npc: Character): Promise<Absence | null> {
  if (npc.hidden) return "npc_hidden";
  if (!npc.is_active) return "npc_inactive";
  if (!npc.is_alive) return "npc_dead";
  if (!pc.region_id) return "pc_nowhere";
  const staged = await stagedNpcs(ctx, pc.region_id);
  if (staged) return staged.some((n) => n.character_id === npc.id && !n.hidden) ? null : "not_staged_here";
  return npc.region_id === pc.region_id ? null : "not_in_same_region";
}
