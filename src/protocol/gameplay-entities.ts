import { z } from "zod";
import { EntityBase } from "./entities";
import { defineEntity } from "./entity";

/**
 * Entities of the gameplay rules: NPC wants and actantial views (DM only), dice rolls,
 * challenges and their attempts, and stagings (who is present in a region).
 */

const RefId = z.string().min(1).max(100);

// ---------- actantial model (DM only) ----------

export const WantVisibilitySchema = z.enum(["known", "suspected", "hidden"]);
export const WantTargetTypeSchema = z.enum(["character", "item", "goal", "text"]);

/** What a want aims at: a character, an inventory item, a goal (by id) or free text. */
export const WantTargetSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("character"), id: RefId }),
  z.object({ type: z.literal("item"), id: RefId }),
  z.object({ type: z.literal("goal"), id: RefId }),
  z.object({ type: z.literal("text"), text: z.string().trim().min(1).max(2_000) }),
]);
export type WantTarget = z.infer<typeof WantTargetSchema>;

/** One motivation of an NPC. Players never receive a want, in any frame. */
export const WantSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  character_id: z.string(),
  description: z.string(),
  /** 0 (idle wish) to 1 (obsession). */
  intensity: z.number(),
  /** How the NPC treats the want in conversation: open, hinted at, concealed. */
  visibility: WantVisibilitySchema,
  /** How the NPC deflects when pressed about a concealed want. */
  deflection_behavior: z.string().nullable(),
  /** Behaviour that betrays the want. */
  tells: z.array(z.string()),
  /** Order among the NPC's wants (1 first). */
  priority: z.number().int(),
  target: WantTargetSchema.nullable(),
});
export type Want = z.infer<typeof WantSchema>;

export const WantEntity = defineEntity({
  name: "Want",
  plural: "Wants",
  key: "want",
  schema: WantSchema,
  fields: {
    description: z.string().trim().min(1).max(5_000),
    intensity: z.number().min(0).max(1).default(0.5),
    visibility: WantVisibilitySchema.default("hidden"),
    deflection_behavior: z.string().max(2_000).nullable().default(null),
    tells: z.array(z.string().trim().min(1).max(500)).max(20).default([]),
    priority: z.number().int().min(1).max(100).default(1),
  },
});
export const WantFieldsSchema = WantEntity.fields;

export const ActantialRoleSchema = z.enum(["helper", "opponent", "sender", "receiver"]);

/** How an NPC sees another character with regard to one of its wants. */
export const ActantialViewSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  /** The NPC whose view it is (the want's owner). */
  character_id: z.string(),
  want_id: z.string(),
  /** The character seen in that role. */
  target_character_id: z.string(),
  role: ActantialRoleSchema,
  reason: z.string(),
});
export type ActantialView = z.infer<typeof ActantialViewSchema>;

const ActorSchema = z.object({ id: z.string(), name: z.string(), actor_type: z.enum(["npc", "pc"]), reason: z.string() });

export const ActantialContextSchema = z.object({
  npc_id: z.string(),
  npc_name: z.string(),
  wants: z.array(
    WantSchema.extend({
      /** The target with its name (null for free text or a target that no longer exists). */
      target_name: z.string().nullable(),
      helpers: z.array(ActorSchema),
      opponents: z.array(ActorSchema),
      senders: z.array(ActorSchema),
      receivers: z.array(ActorSchema),
    }),
  ),
  /** Helpers and opponents merged across wants, one entry per character with every reason. */
  social_views: z.object({
    allies: z.array(z.object({ id: z.string(), name: z.string(), actor_type: z.enum(["npc", "pc"]), reasons: z.array(z.string()) })),
    enemies: z.array(z.object({ id: z.string(), name: z.string(), actor_type: z.enum(["npc", "pc"]), reasons: z.array(z.string()) })),
  }),
});

// ---------- dice ----------

export const DiceVisibilitySchema = z.enum(["public", "dm", "self"]);

export const DiceTermResultSchema = z.object({
  /** The term as written ("4d6kh3", "-2", "dF"). */
  term: z.string(),
  sign: z.union([z.literal(1), z.literal(-1)]),
  kind: z.enum(["dice", "fate", "constant"]),
  /** Dice faces (100 for d%; 3 for dF, whose faces are -1, 0, +1). */
  sides: z.number().int().nullable(),
  /** Every die rolled, in order; `kept: false` for those dropped by kh/kl. */
  dice: z.array(z.object({ value: z.number().int(), kept: z.boolean() })),
  /** The term's value, sign applied. */
  value: z.number().int(),
});

export const DiceRollSchema = z.object({
  id: z.string(),
  formula: z.string(),
  total: z.number().int(),
  terms: z.array(DiceTermResultSchema),
  visibility: DiceVisibilitySchema,
  roller_participant_id: z.string(),
  rolled_at: z.number().int(),
});
export type DiceRoll = z.infer<typeof DiceRollSchema>;

// ---------- challenges ----------

export const DifficultySchema = z.discriminatedUnion("kind", [
  /** d20: the total must reach the DC. */
  z.object({ kind: z.literal("dc"), value: z.number().int().min(1).max(100) }),
  /** d100: the roll must be at most the percentage (the modifier adds to it). */
  z.object({ kind: z.literal("percentage"), value: z.number().int().min(1).max(100) }),
  /** narrative: the DM judges; 2d6 bands suggest (10+ success, 7–9 partial). */
  z.object({ kind: z.literal("narrative"), label: z.string().max(200).optional() }),
]);
export type Difficulty = z.infer<typeof DifficultySchema>;

/** `critical` is a critical success. */
export const ChallengeOutcomeSchema = z.enum(["success", "failure", "partial", "critical", "critical_failure"]);
export type ChallengeOutcome = z.infer<typeof ChallengeOutcomeSchema>;

export const ChallengeOutcomesSchema = z.object({
  success: z.string().max(5_000),
  failure: z.string().max(5_000),
  partial: z.string().max(5_000),
  critical: z.string().max(5_000),
  /** Absent from challenges written before it existed (read as ""). */
  critical_failure: z.string().max(5_000).optional(),
});

export const ChallengeSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  name: z.string(),
  description: z.string(),
  /** The stat or skill whose value (the PC's stats[check_stat]) is the roll's modifier. */
  check_stat: z.string().nullable(),
  difficulty: DifficultySchema,
  /** DM only: players learn the outcome's text when the challenge is resolved. */
  outcomes: ChallengeOutcomesSchema.optional(),
  /** Hidden challenges exist for DMs only until triggered. */
  hidden: z.boolean(),
});
export type Challenge = z.infer<typeof ChallengeSchema>;

export const ChallengeFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(20_000),
  check_stat: z.string().min(1).max(40).nullable(),
  difficulty: DifficultySchema,
  outcomes: ChallengeOutcomesSchema.partial(),
  hidden: z.boolean(),
});

export const ChallengeAttemptStatusSchema = z.enum(["prompted", "rolled", "resolved"]);

/** One PC facing one challenge: prompted, rolled, then resolved once by a DM. */
export const ChallengeAttemptSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  challenge_id: z.string(),
  character_id: z.string(),
  /** The player prompted: the only one who may roll. */
  participant_id: z.string(),
  status: ChallengeAttemptStatusSchema,
  /** The dice the player was asked to roll ("1d20"). */
  suggested_dice: z.string(),
  roll: DiceRollSchema.nullable(),
  modifier: z.number(),
  total: z.number().nullable(),
  suggested_outcome: ChallengeOutcomeSchema.nullable(),
  outcome: ChallengeOutcomeSchema.nullable(),
  narration: z.string().nullable(),
});
export type ChallengeAttempt = z.infer<typeof ChallengeAttemptSchema>;

// ---------- staging ----------

export const StagedNpcSchema = z.object({
  character_id: z.string(),
  present: z.boolean(),
  /** Present but unseen: players never learn of it. */
  hidden: z.boolean(),
  /** Why the proposal has it so ("home", "avoids", "placed here"). */
  reasoning: z.string(),
});
export type StagedNpc = z.infer<typeof StagedNpcSchema>;

export const StagingStatusSchema = z.enum(["pending", "approved"]);
export const StagingSourceSchema = z.enum(["rule", "custom", "prestaged", "auto"]);

/** Who is present in a region, proposed by the rules and approved by a DM (DM view). */
export const StagingSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  region_id: z.string(),
  status: StagingStatusSchema,
  /** The rule-based proposal (what auto-approval uses). */
  proposal: z.array(StagedNpcSchema),
  /** What was approved (empty while pending). */
  npcs: z.array(StagedNpcSchema),
  source: StagingSourceSchema.nullable(),
  ttl_minutes: z.number().int().nullable(),
  approved_at: z.number().int().nullable(),
  /** Valid (reused for every PC entering) until then. */
  expires_at: z.number().int().nullable(),
  approved_by: z.string().nullable(),
  /** PCs waiting for the answer. */
  waiting_character_ids: z.array(z.string()),
  /** When auto-approval fires (null: off, or prestaged). */
  auto_approve_at: z.number().int().nullable(),
});
export type Staging = z.infer<typeof StagingSchema>;

/** One NPC present in a region as a viewer may know it (players: never a hidden one). */
export const PresentNpcSchema = z.object({ character_id: z.string(), name: z.string(), hidden: z.boolean() });
export type PresentNpc = z.infer<typeof PresentNpcSchema>;

export const StagedNpcInputSchema = z.object({ character_id: RefId, present: z.boolean(), hidden: z.boolean().optional() });
