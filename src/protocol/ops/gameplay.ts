import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import {
  ActantialContextSchema,
  ActantialRoleSchema,
  ActantialViewSchema,
  ChallengeAttemptSchema,
  ChallengeFieldsSchema,
  ChallengeOutcomeSchema,
  ChallengeSchema,
  DiceRollSchema,
  DiceVisibilitySchema,
  StagedNpcInputSchema,
  StagingSchema,
  WantEntity,
  WantSchema,
  WantTargetSchema,
} from "../gameplay-entities";
import { RegionPresenceSchema } from "../play-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** A dice formula: parsed on the server (src/domain/dice.ts names what is wrong with it). */
const Formula = z.string().min(1).max(100);

/** Dice rolled on the server with a cryptographic generator. */
export const DICE_OPS = {
  RollDice: op({
    access: "play",
    write: true,
    events: ["DiceRolled", "PlayLogged"],
    input: { formula: Formula, visibility: DiceVisibilitySchema.optional(), character_id: Id.optional() },
    output: DiceRollSchema,
  }),
} as const;

/** NPC motivations: DMs only, reads included (players get FORBIDDEN). */
export const ACTANTIAL_OPS = {
  ListWants: op({ access: "dm", input: { npc_id: Id }, output: z.object({ items: z.array(WantSchema) }) }),
  CreateWant: op({
    access: "dm",
    write: true,
    events: ["NpcWantCreated"],
    input: { npc_id: Id, data: WantEntity.create, target: WantTargetSchema.nullable().optional() },
    output: WantSchema,
  }),
  UpdateWant: op({
    access: "dm",
    write: true,
    events: ["NpcWantUpdated"],
    input: { want_id: Id, data: WantEntity.update, ...ExpectedVersion },
    output: WantSchema,
  }),
  /** Its actantial views go with it. */
  DeleteWant: op({ access: "dm", write: true, events: ["NpcWantDeleted"], input: { want_id: Id, ...ExpectedVersion }, output: Deleted }),
  /** null removes the target (WantTargetRemoved). */
  SetWantTarget: op({
    access: "dm",
    write: true,
    events: ["WantTargetSet", "WantTargetRemoved"],
    input: { want_id: Id, target: WantTargetSchema.nullable(), ...ExpectedVersion },
    output: WantSchema,
  }),
  AddActantialView: op({
    access: "dm",
    write: true,
    events: ["ActantialViewAdded"],
    input: { want_id: Id, target_character_id: Id, role: ActantialRoleSchema, reason: z.string().max(2_000).optional() },
    output: ActantialViewSchema,
  }),
  RemoveActantialView: op({ access: "dm", write: true, events: ["ActantialViewRemoved"], input: { actantial_view_id: Id }, output: Deleted }),
  GetActantialContext: op({ access: "dm", input: { npc_id: Id }, output: ActantialContextSchema }),
} as const;

/** Challenges: DM-written checks a PC rolls against; a DM resolves each attempt once. */
export const CHALLENGE_OPS = {
  /** Players see challenges that are not hidden, without their outcome texts. */
  ListChallenges: op({ access: "read", input: { ...PageParams }, output: pageOf(ChallengeSchema) }),
  GetChallenge: op({ access: "read", input: { challenge_id: Id }, output: ChallengeSchema }),
  CreateChallenge: op({
    access: "dm",
    write: true,
    events: ["ChallengeCreated"],
    input: { data: ChallengeFieldsSchema.partial().required({ name: true }).strict() },
    output: ChallengeSchema,
  }),
  UpdateChallenge: op({
    access: "dm",
    write: true,
    events: ["ChallengeUpdated", "ChallengeCreated", "ChallengeDeleted"],
    input: { challenge_id: Id, data: ChallengeFieldsSchema.partial().strict(), ...ExpectedVersion },
    output: ChallengeSchema,
  }),
  DeleteChallenge: op({ access: "dm", write: true, events: ["ChallengeDeleted"], input: { challenge_id: Id, ...ExpectedVersion }, output: Deleted }),
  /** DM: asks a PC's player to roll (a hidden challenge is revealed). */
  TriggerChallenge: op({
    access: "dm",
    write: true,
    events: ["ChallengePrompt", "ChallengeUpdated", "ChallengeCreated", "PlayLogged"],
    input: { challenge_id: Id, character_id: Id },
    output: ChallengeAttemptSchema,
  }),
  /**
   * The prompted player rolls the challenge's dice (`attempt.suggested_dice`: the challenge decides
   * them; any other `formula` is VALIDATION_ERROR); the PC's check_stat is added.
   */
  SubmitChallengeRoll: op({
    access: "play",
    write: true,
    events: ["ChallengeRollSubmitted", "PlayLogged"],
    input: { challenge_id: Id, formula: Formula.optional() },
    output: ChallengeAttemptSchema,
  }),
  /** DM: accepts the suggested outcome or chooses one; once per attempt. */
  ResolveChallenge: op({
    access: "dm",
    write: true,
    events: ["ChallengeResolved", "StoryEventCreated", "PlayLogged"],
    input: { attempt_id: Id, outcome: ChallengeOutcomeSchema.optional(), narration: z.string().max(5_000).optional() },
    output: ChallengeAttemptSchema,
  }),
  ListChallengeAttempts: op({
    access: "dm",
    input: { challenge_id: Id.optional(), open_only: z.boolean().optional(), ...PageParams },
    output: pageOf(ChallengeAttemptSchema),
  }),
} as const;

const StagedNpcs = z.array(StagedNpcInputSchema).max(200);
/** Minutes a staging stays valid (default 180). */
const TtlMinutes = z.number().int().min(1).max(525_600);

/** Staging: who is present in a region, approved by a DM. */
export const STAGING_OPS = {
  /** DM: approves a pending staging (default: its proposal) → StagingApproved, and the waiting PCs' view. */
  ApproveStaging: op({
    access: "dm",
    write: true,
    events: ["StagingApproved", "PcSceneChanged", "StoryEventCreated", "PlayLogged", "RegionPresenceChanged"],
    input: { staging_id: Id, npcs: StagedNpcs.optional(), ttl_minutes: TtlMinutes.optional() },
    output: StagingSchema,
  }),
  /** DM: stages a region ahead of any PC (resolves a pending staging of it too). */
  PreStageRegion: op({
    access: "dm",
    write: true,
    events: ["StagingApproved", "PcSceneChanged", "StoryEventCreated", "PlayLogged", "RegionPresenceChanged"],
    input: { region_id: Id, npcs: StagedNpcs, ttl_minutes: TtlMinutes.optional() },
    output: StagingSchema,
  }),
  /** DM: stagings, pending ones first (a DM who joins late finds what awaits an answer). */
  ListStagings: op({
    access: "dm",
    input: { status: z.enum(["pending", "approved"]).optional(), region_id: Id.optional(), ...PageParams },
    output: pageOf(StagingSchema),
  }),
  /**
   * Who is present in a region as the caller may know it (players: never a hidden NPC), by the
   * rule dialogue applies: the approved staging, nobody while one is pending, else the NPCs placed
   * there. RegionPresenceChanged keeps it current.
   */
  GetRegionPresence: op({ access: "read", input: { region_id: Id }, output: RegionPresenceSchema }),
} as const;
