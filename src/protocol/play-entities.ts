import { z } from "zod";
import { ChallengeAttemptSchema, ChallengeOutcomeSchema, DiceRollSchema, PresentNpcSchema, StagingSchema } from "./gameplay-entities";
import { DialogueExchangeSchema } from "./dialogue-entities";

/**
 * The play loop as the server tells it: who is present in a region (one rule, the server's),
 * the table's play log (what happened, as the caller may see it) and what waits for whom.
 */

// ---------- presence ----------

/**
 * Where a region's presence comes from: `approved` (its valid staging, the DM's word), `pending`
 * (a staging waits for the DM: nobody may be spoken to yet), `fallback` (no staging: the NPCs
 * placed in the region, `region_id`).
 */
export const PresenceStatusSchema = z.enum(["approved", "pending", "fallback"]);
export type PresenceStatus = z.infer<typeof PresenceStatusSchema>;

export const PresentPcSchema = z.object({ character_id: z.string(), name: z.string(), owner_participant_id: z.string().nullable() });
export type PresentPc = z.infer<typeof PresentPcSchema>;

/** Who is in a region, by the rule dialogue applies (players: never a hidden NPC). */
export const RegionPresenceSchema = z.object({
  region_id: z.string(),
  region_name: z.string(),
  status: PresenceStatusSchema,
  /** status === "approved" (kept from the first shape of GetRegionPresence). */
  staged: z.boolean(),
  /** The approved or pending staging (null: fallback). */
  staging_id: z.string().nullable(),
  /** When the approved staging ends (then the region falls back, or a new staging starts). */
  expires_at: z.number().int().nullable(),
  /** The NPCs a PC here may speak to (DMs: hidden ones too, marked `hidden`); empty while pending. */
  npcs_present: z.array(PresentNpcSchema),
  /** The player characters in the region. */
  pcs_present: z.array(PresentPcSchema),
});
export type RegionPresence = z.infer<typeof RegionPresenceSchema>;

// ---------- play log ----------

export const PlayLogKindSchema = z.enum([
  /** A PC spoke to an NPC (`dialogue.speaker: "pc"`) or the NPC answered (`"npc"`). */
  "dialogue",
  /** RollDice. */
  "roll",
  /** A DM asked a PC to roll for a challenge (the prompted player and DMs). */
  "challenge_prompt",
  /** The prompted player rolled (the roller and DMs). */
  "challenge_roll",
  /** A DM resolved the attempt. */
  "challenge_outcome",
  /** A PC entered a region. */
  "arrival",
  /** A PC left a region. */
  "departure",
  /** The active scene changed. */
  "scene",
  /** Who is present in a region was settled (a staging approved). */
  "presence",
  /** Another timeline entry (a DM marker, a custom entry). */
  "story",
]);
export type PlayLogKind = z.infer<typeof PlayLogKindSchema>;

/** Who may read an entry: everyone, DMs only, or DMs and the listed participants. */
export const PlayLogAudienceSchema = z.enum(["all", "dm", "participants"]);

export const PlayLogEntrySchema = z.object({
  /** Time-ordered; an entry's live (PlayLogged) and read (ListPlayLog) copies share it. */
  id: z.string(),
  created_at: z.number().int(),
  kind: PlayLogKindSchema,
  /** The entry in words ("Mira rolled 1d20+3 for Hask: 17"). */
  text: z.string(),
  audience: PlayLogAudienceSchema,
  /** Who did it (null: the session itself, e.g. a staging timeout). */
  participant_id: z.string().nullable(),
  /** The character it is about: who rolled, spoke, arrived (null: none, or one the caller may not see). */
  character_id: z.string().nullable(),
  character_name: z.string().nullable(),
  /** Roll entries (roll, challenge_roll): the formula, every die (kept or dropped), the total. */
  roll: DiceRollSchema.nullable(),
  /** challenge_roll: the stat added to the dice. */
  modifier: z.number().nullable(),
  dialogue: z
    .object({
      exchange_id: z.string(),
      npc_id: z.string(),
      npc_name: z.string(),
      pc_id: z.string(),
      pc_name: z.string(),
      speaker: z.enum(["pc", "npc"]),
      words: z.string(),
      /** npc turns: who wrote the answer ("the DM", or the model that drafted it). */
      source_label: z.string().nullable(),
    })
    .nullable(),
  challenge: z
    .object({
      challenge_id: z.string(),
      attempt_id: z.string(),
      challenge_name: z.string(),
      total: z.number().nullable(),
      outcome: ChallengeOutcomeSchema.nullable(),
      outcome_text: z.string().nullable(),
      narration: z.string().nullable(),
    })
    .nullable(),
  region: z.object({ region_id: z.string(), region_name: z.string() }).nullable(),
  scene_id: z.string().nullable(),
  story_event_id: z.string().nullable(),
});
export type PlayLogEntry = z.infer<typeof PlayLogEntrySchema>;

// ---------- what waits ----------

/** A challenge attempt with the names a table shows. */
export const AttemptViewSchema = z.object({
  attempt: ChallengeAttemptSchema,
  challenge_name: z.string(),
  character_name: z.string(),
  /** Once rolled, the roll in words: "2d20kh1 (17, ~4~) + 2 (dex) = 19" (dropped dice between tildes); else null. */
  breakdown: z.string().nullable(),
});

/** Everything waiting for a DM. */
export const DmQueueSchema = z.object({
  /** Dialogue answers drafted and awaiting approval (`dm_draft` inside). */
  dialogue_drafts: z.array(DialogueExchangeSchema),
  /** Pending stagings (the proposal inside) with their region's name. */
  stagings: z.array(z.object({ staging: StagingSchema, region_name: z.string() })),
  /** Rolled challenge attempts to resolve: roll (formula, dice), modifier, total, suggested outcome. */
  challenge_rolls: z.array(AttemptViewSchema),
});
export type DmQueue = z.infer<typeof DmQueueSchema>;

/** What the caller (a player) waits for, or must do. */
export const MyWaitsSchema = z.object({
  /** Its PCs' dialogues not answered yet (drafting, or awaiting a DM). */
  dialogues: z.array(DialogueExchangeSchema),
  /** Regions its PCs are in whose presence waits for a DM. */
  stagings: z.array(z.object({ staging_id: z.string(), region_id: z.string(), region_name: z.string(), character_ids: z.array(z.string()) })),
  /** Challenge prompts to roll (`prompted`) and rolls awaiting a DM (`rolled`). */
  challenges: z.array(AttemptViewSchema),
});
export type MyWaits = z.infer<typeof MyWaitsSchema>;
