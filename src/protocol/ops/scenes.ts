import { z } from "zod";
import { CharacterSchema } from "../entities";
import { RegionSchema, SceneEntity, SceneSchema } from "../world-entities";
import { crudOps } from "./crud";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** Scenes, the active scene, and moving player characters between regions. */
export const SCENE_OPS = {
  ...crudOps(SceneEntity, { listBy: { location_id: Id.optional() } }),
  /** Deleting the active scene ends it (SceneChanged to null). */
  DeleteScene: op({
    access: "dm",
    write: true,
    events: ["SceneDeleted", "SceneChanged"],
    input: { scene_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),
  /** DM: the scene everyone is in now (null: none) → SceneChanged to everyone, and a timeline entry. */
  SetActiveScene: op({
    access: "dm",
    write: true,
    events: ["SceneChanged", "StoryEventCreated", "PlayLogged"],
    input: { scene_id: Id.nullable() },
    output: z.object({ scene: SceneSchema.nullable() }),
  }),
  GetActiveScene: op({ access: "read", input: {}, output: z.object({ scene: SceneSchema.nullable() }) }),
  /** DM: the scene's backdrop (an asset id, or null for the region's own) → SceneUpdate. */
  SetSceneBackdrop: op({
    access: "dm",
    write: true,
    events: ["SceneUpdate"],
    input: { scene_id: Id, backdrop_asset_id: Id.nullable(), ...ExpectedVersion },
    output: SceneSchema,
  }),
  /**
   * A player moves its own PC (a DM any PC) along an open connection from its current region.
   * Staging: with a valid staging the PC's player gets PcSceneChanged; without, DMs get
   * StagingApprovalRequest and the player StagingPending (docs/gameplay.md).
   */
  MoveToRegion: op({
    access: "play",
    write: true,
    events: ["CharacterUpdated", "StoryEventCreated", "StagingApprovalRequest", "StagingPending", "PcSceneChanged", "PlayLogged", "RegionPresenceChanged"],
    input: { character_id: Id, region_id: Id },
    output: z.object({ character: CharacterSchema, region: RegionSchema }),
  }),
} as const;
