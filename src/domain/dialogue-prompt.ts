import type { Character, DialogueExchange, DialogueTurn, Want } from "../protocol";
import type { ChatMessage, LlmRequest } from "../providers/llm";
import { renderPromptTemplate } from "./prompts";
import { wants } from "./gameplay-tables";
import { worlds } from "./world";
import { locations, regions, scenes } from "./world-tables";
import { regionPresence } from "./staging";
import { PendingChanges } from "../engine/overlay";

/** Turns looked at for a prompt, at most (then the token budget decides). */
const MAX_TURNS = 40;
/** Characters per token, roughly, for the history budget. */
const CHARS_PER_TOKEN = 4;
const MAX_PRESENT = 20;
/** The NPC's strongest wants in the prompt, at most. */
const MAX_WANTS = 5;

/** How the NPC should treat a want in conversation, by its visibility. */
const WANT_STANCE: Record<Want["visibility"], string> = {
  known: "speaks of it openly",
  suspected: "only hints at it",
  hidden: "conceals it",
};

/** The NPC's wants for the model (DM material: it never reaches a player as such). */
function describeWants(list: Want[]): string {
  if (list.length === 0) return "(nothing in particular)";
  return list
    .map((w) => {
      const parts = [`intensity ${w.intensity.toFixed(1)}`, WANT_STANCE[w.visibility]];
      if (w.visibility !== "known" && w.deflection_behavior) parts.push(`when pressed: ${w.deflection_behavior}`);
      if (w.tells.length) parts.push(`tells: ${w.tells.join("; ")}`);
      return `- ${w.description} (${parts.join(", ")})`;
    })
    .join("\n");
}

type Scope = { db: D1Database; sessionId: string; worldId: string };

/**
 * The prompt of one NPC answer: the world's `dialogue.system` and `dialogue.response_format`
 * templates (overrides honoured) filled from the world, the NPC (DM notes and wants for the model only),
 * the scene, the region with who else is present, and the latest turns of this NPC–PC
 * conversation within `historyTokens`; then the player's words. A rejected draft and the DM's
 * feedback are added when drafting again.
 */
export async function buildDialoguePrompt(
  s: Scope,
  ex: DialogueExchange,
  npc: Character,
  pc: Character,
  historyTokens: number,
): Promise<Pick<LlmRequest, "messages" | "persona">> {
  const world = await worlds.get(s.db, s.sessionId, s.worldId);
  const region = pc.region_id ? await regions.get(s.db, s.sessionId, pc.region_id) : null;
  const location = region ? await locations.get(s.db, s.sessionId, region.location_id) : null;
  const sceneRow = await s.db
    .prepare("SELECT active_scene_id FROM worlds WHERE session_id = ? AND id = ?")
    .bind(s.sessionId, s.worldId)
    .first<{ active_scene_id: string | null }>();
  const scene = sceneRow?.active_scene_id ? await scenes.get(s.db, s.sessionId, sceneRow.active_scene_id) : null;
  // Who else is here by the rule dialogue itself applies (staging.regionPresence), never a hidden NPC.
  const presence = region
    ? await regionPresence({ db: s.db, session: { sessionId: s.sessionId }, tx: { pending: new PendingChanges() }, now: Date.now() }, region)
    : null;
  const present = presence
    ? [...presence.npcs_present.filter((n) => !n.hidden && n.character_id !== npc.id), ...presence.pcs_present.filter((c) => c.character_id !== pc.id)].slice(
        0,
        MAX_PRESENT,
      )
    : [];
  const turns = await recentTurns(s, npc.id, pc.id, historyTokens * CHARS_PER_TOKEN);
  const npcWants = (await wants.page(s.db, s.sessionId, { where: "character_id = ?", params: [npc.id], limit: 200 })).items
    .sort((a, b) => a.priority - b.priority || b.intensity - a.intensity)
    .slice(0, MAX_WANTS);
  const names = { npc: npc.name, pc: pc.name };

  const system = await renderPromptTemplate(s.db, s.sessionId, "dialogue.system", {
    world_name: world?.name ?? "",
    world_description: world?.description ?? "",
    npc_name: npc.name,
    npc_description: npc.description || "(not described)",
    npc_wants: describeWants(npcWants),
    npc_notes: npc.dm_notes?.trim() || "(none)",
    scene: scene ? `${scene.name}${scene.description ? ` — ${scene.description}` : ""}` : "(no scene)",
    region: region
      ? `${region.name}${location ? ` (${location.name})` : ""}${region.description ? ` — ${region.description}` : ""}`
      : "(nowhere in particular)",
    present: present.length ? present.map((c) => c.name).join(", ") : "nobody else",
    pc_name: pc.name,
    recent_turns: turns.length ? turns.map((t) => `${t.speaker === "npc" ? names.npc : names.pc}: ${t.text}`).join("\n") : "(this is your first exchange)",
  });
  const format = await renderPromptTemplate(s.db, s.sessionId, "dialogue.response_format", { npc_name: npc.name });
  const retry =
    ex.dm_feedback !== null && ex.dm_feedback !== undefined
      ? `\n\nThe game master rejected your previous answer${ex.dm_draft ? ` ("${ex.dm_draft}")` : ""}. Their direction: ${ex.dm_feedback || "try again"}. Answer again.`
      : "";
  const messages: ChatMessage[] = [
    { role: "system", content: `${system}\n\n${format}${retry}` },
    { role: "user", content: `${pc.name}: ${ex.player_text}` },
  ];
  return { messages, persona: { name: npc.name, description: npc.description, words: ex.player_text } };
}

/** The newest turns of a conversation that fit in `budgetChars`, oldest first. */
async function recentTurns(s: Scope, npcId: string, pcId: string, budgetChars: number): Promise<DialogueTurn[]> {
  const { results } = await s.db
    .prepare("SELECT speaker, text FROM dialogue_turns WHERE session_id = ? AND npc_id = ? AND character_id = ? ORDER BY created_at DESC, id DESC LIMIT ?")
    .bind(s.sessionId, npcId, pcId, MAX_TURNS)
    .all<DialogueTurn>();
  const kept: DialogueTurn[] = [];
  let used = 0;
  for (const t of results) {
    used += t.text.length + 20;
    if (used > budgetChars) break;
    kept.push(t);
  }
  return kept.reverse();
}
