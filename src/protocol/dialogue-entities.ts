import { z } from "zod";
import { EntityBase } from "./entities";
import { ErrorBodySchema } from "./errors";

/**
 * Dialogue (DESIGN.md §4): a player speaks to an NPC for a PC; the NPC's answer is drafted by an
 * LLM job, approved by a DM when the session's `dialogue_approval` is on, then said to everyone.
 */
export const DialogueStatusSchema = z.enum(["generating", "awaiting_approval", "answered", "failed"]);
export type DialogueStatus = z.infer<typeof DialogueStatusSchema>;

/** Who wrote the answer: the model, the model edited by a DM, or a DM who took over. */
export const DialogueSourceSchema = z.enum(["llm", "dm_edit", "dm"]);

/** The keys of an exchange only DMs receive (also in DM_ONLY_KEYS: stripped from every player frame). */
export const DIALOGUE_DM_KEYS = ["dm_draft", "dm_reasoning", "dm_feedback"] as const;

export const DialogueExchangeSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  npc_id: z.string(),
  /** The player character spoken for. */
  character_id: z.string(),
  /** Who spoke: the PC's player, or a DM speaking for it. */
  participant_id: z.string(),
  player_text: z.string(),
  status: DialogueStatusSchema,
  /** The answer waits for a DM (the session's dialogue_approval when it was spoken). */
  approval: z.boolean(),
  /** The job drafting the answer (its Stream frames carry this id). */
  job_id: z.string().nullable(),
  /** Drafts asked for so far (each rejection asks for one more). */
  attempts: z.number().int(),
  /** What the NPC said, once answered. */
  text: z.string().nullable(),
  source: DialogueSourceSchema.nullable(),
  /** Which LLM provider drafted the answer ("offline" for the local stand-in, "dm" when a DM took over). */
  provider: z.string().nullable(),
  model: z.string().nullable(),
  /** Why no answer came, once failed. */
  error: ErrorBodySchema.nullable(),
  /** DM only: the draft awaiting approval. */
  dm_draft: z.string().nullable().optional(),
  /** DM only: the model's reasons for its answer. */
  dm_reasoning: z.string().nullable().optional(),
  /** DM only: why the last draft was rejected. */
  dm_feedback: z.string().nullable().optional(),
});
export type DialogueExchange = z.infer<typeof DialogueExchangeSchema>;

/** One line of a conversation between an NPC and a PC (ListDialogueTurns). */
export const DialogueTurnSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  exchange_id: z.string(),
  npc_id: z.string(),
  character_id: z.string(),
  speaker: z.enum(["pc", "npc"]),
  text: z.string(),
  provider: z.string().nullable(),
});
export type DialogueTurn = z.infer<typeof DialogueTurnSchema>;

export const DialogueDecisionSchema = z.enum(["accept", "edit", "reject", "take_over"]);
export type DialogueDecision = z.infer<typeof DialogueDecisionSchema>;
