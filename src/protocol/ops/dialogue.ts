import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import { DialogueDecisionSchema, DialogueExchangeSchema, DialogueTurnSchema } from "../dialogue-entities";
import { ExpectedVersion, Id, op } from "./define";

const Words = z.string().trim().min(1).max(2_000);

/** Dialogue: speaking to NPCs, the DM's approval of their answers, and the conversations kept. */
export const DIALOGUE_OPS = {
  /**
   * A player speaks for its own PC (a DM for any PC) to an NPC present with it. Answers at once
   * with the exchange; the NPC's answer streams (stream id = exchange.job_id) and arrives as NpcSpeaks.
   */
  SpeakToNpc: op({
    access: "play",
    write: true,
    events: ["DialogueStarted", "JobUpdated", "PlayLogged"],
    input: { character_id: Id, npc_id: Id, text: Words },
    output: DialogueExchangeSchema,
  }),
  /**
   * DM: decides on a draft. `accept` says it, `edit` says `text` instead, `take_over` says the DM's
   * own `text`, `reject` drafts again with `feedback` (streaming again).
   */
  ApproveDialogue: op({
    access: "dm",
    write: true,
    events: ["NpcSpeaks", "DialogueRegenerating", "JobUpdated", "StoryEventCreated", "PlayLogged"],
    input: {
      exchange_id: Id,
      decision: DialogueDecisionSchema,
      text: Words.optional(),
      feedback: z.string().trim().max(2_000).optional(),
      ...ExpectedVersion,
    },
    output: DialogueExchangeSchema,
  }),
  /** DM: the exchanges not yet answered (drafting or awaiting approval), oldest first. */
  ListPendingDialogues: op({ access: "dm", input: { ...PageParams }, output: pageOf(DialogueExchangeSchema) }),
  /** The conversation between an NPC and PCs (one PC with character_id), newest first. */
  ListDialogueTurns: op({
    access: "read",
    input: { npc_id: Id, character_id: Id.optional(), ...PageParams },
    output: pageOf(DialogueTurnSchema),
  }),
} as const;
