import { z } from "zod";
import { DialogueExchangeSchema, DialogueTurnSchema } from "../dialogue-entities";
import { ErrorBodySchema } from "../errors";

/**
 * Events of dialogue. Exchanges travel whole: their dm_* keys are stripped from every frame a
 * player or spectator receives (DM_ONLY_KEYS).
 */
export const DIALOGUE_EVENTS = {
  /** A player (or a DM for a PC) spoke to an NPC; the answer is being drafted (stream id = job_id). */
  DialogueStarted: { exchange: DialogueExchangeSchema },
  /** DMs only: a draft waits for ApproveDialogue. */
  DialogueApprovalRequired: { exchange: DialogueExchangeSchema },
  /** DMs only: a DM rejected the draft; a new one is being drafted (stream id = job_id). */
  DialogueRegenerating: { exchange: DialogueExchangeSchema },
  /** The NPC answered: the final text for everyone, with the two turns stored. */
  NpcSpeaks: { exchange: DialogueExchangeSchema, turns: z.array(DialogueTurnSchema) },
  /** No answer came (provider down, stream cut, timeout, cancelled): nothing of it was stored. */
  DialogueFailed: { exchange_id: z.string(), npc_id: z.string(), character_id: z.string(), error: ErrorBodySchema },
} as const;
