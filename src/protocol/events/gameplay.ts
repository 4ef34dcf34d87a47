import { z } from "zod";
import { RegionSchema } from "../world-entities";
import {
  ActantialViewSchema,
  ChallengeAttemptSchema,
  ChallengeOutcomeSchema,
  ChallengeSchema,
  DiceRollSchema,
  PresentNpcSchema,
  StagingSchema,
  WantSchema,
} from "../gameplay-entities";

/** Actantial model: DMs only, always. */
export const ACTANTIAL_EVENTS = {
  NpcWantCreated: { want: WantSchema },
  NpcWantUpdated: { want: WantSchema },
  NpcWantDeleted: { want_id: z.string(), character_id: z.string() },
  /** SetWantTarget with a target. */
  WantTargetSet: { want: WantSchema },
  /** SetWantTarget with null. */
  WantTargetRemoved: { want: WantSchema },
  ActantialViewAdded: { actantial_view: ActantialViewSchema },
  ActantialViewRemoved: { actantial_view_id: z.string(), want_id: z.string() },
} as const;

export const DICE_EVENTS = {
  /** To everyone (public), to DMs and the roller (dm), to the roller (self; DMs see every roll). */
  DiceRolled: { roll: DiceRollSchema, character_id: z.string().nullable() },
} as const;

export const CHALLENGE_EVENTS = {
  ChallengeCreated: { challenge: ChallengeSchema },
  ChallengeUpdated: { challenge: ChallengeSchema },
  ChallengeDeleted: { challenge_id: z.string() },
  /** To the prompted PC's player (and DMs): roll these dice. */
  ChallengePrompt: { attempt: ChallengeAttemptSchema, challenge: ChallengeSchema },
  /** To the roller and DMs, with the outcome the rules suggest. */
  ChallengeRollSubmitted: { attempt: ChallengeAttemptSchema },
  /** To everyone: the outcome and its text. */
  ChallengeResolved: {
    attempt: ChallengeAttemptSchema,
    challenge_name: z.string(),
    outcome: ChallengeOutcomeSchema,
    outcome_text: z.string(),
    narration: z.string().nullable(),
  },
} as const;

export const STAGING_EVENTS = {
  /** To DMs: a PC entered a region without a valid staging; the rule-based proposal. */
  StagingApprovalRequest: { staging: StagingSchema, region_name: z.string() },
  /** To the waiting PC's player: the DM is deciding who is there. */
  StagingPending: {
    staging_id: z.string(),
    region_id: z.string(),
    region_name: z.string(),
    /** Seconds before auto-approval (null: none, the DM decides). */
    timeout_seconds: z.number().int().nullable(),
  },
  /**
   * Who is present in a region now. DMs get the staging and every present NPC (hidden ones
   * marked); players get only the NPCs they may see.
   */
  StagingApproved: {
    staging_id: z.string(),
    region_id: z.string(),
    npcs_present: z.array(PresentNpcSchema),
    expires_at: z.number().int().nullable(),
    staging: StagingSchema.optional(),
  },
  /** To a PC's player: the region it is in and who it sees there (the original's SceneChanged for a PC). */
  PcSceneChanged: { pc_id: z.string(), region: RegionSchema, npcs_present: z.array(PresentNpcSchema) },
} as const;
