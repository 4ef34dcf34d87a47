import { z } from "zod";
import { CharacterSchema, PageParams, pageOf } from "../entities";
import { RegionSchema, SceneFieldsSchema, SceneSchema } from "../world-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** Scenes, the active scene, and moving player characters between regions. */
export const SCENE_OPS = {
  ListScenes: op({ location_id: Id.optional(), ...PageParams }, pageOf(SceneSchema)),
  GetScene: op({ scene_id: Id }, SceneSchema),
  CreateScene: op({ data: SceneFieldsSchema.partial().required({ name: true }).strict() }, SceneSchema),
  UpdateScene: op({ scene_id: Id, data: SceneFieldsSchema.partial().strict(), ...ExpectedVersion }, SceneSchema),
  DeleteScene: op({ scene_id: Id, ...ExpectedVersion }, Deleted),
  /** DM: the scene everyone is in now (null: none) → SceneChanged to everyone. */
  SetActiveScene: op({ scene_id: Id.nullable() }, z.object({ scene: SceneSchema.nullable() })),
  GetActiveScene: op({}, z.object({ scene: SceneSchema.nullable() })),
  /** DM: the scene's backdrop (an asset id, or null for the region's own) → SceneUpdate. */
  SetSceneBackdrop: op({ scene_id: Id, backdrop_asset_id: Id.nullable(), ...ExpectedVersion }, SceneSchema),
  /** A player moves its own PC (a DM any PC) along an open connection from its current region. */
  MoveToRegion: op({ character_id: Id, region_id: Id }, z.object({ character: CharacterSchema, region: RegionSchema })),
} as const;
