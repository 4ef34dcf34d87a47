import { z } from "zod";
import { WorldSchema } from "../entities";
import { entityEvents } from "../entity";
import {
  GoalEntity,
  LocationEntity,
  NpcRegionRelationshipSchema,
  PromptTemplateSchema,
  RegionConnectionEntity,
  RegionEntity,
  SceneEntity,
  SceneSchema,
  StoryEventSchema,
} from "../world-entities";

/** Events of the world-building areas (who receives each: docs/world.md). */
export const WORLD_EVENTS = {
  WorldUpdated: { world: WorldSchema },
  /** The whole content was replaced or filled: clients reload (GetSessionSnapshot and lists). */
  WorldImported: { world: WorldSchema },
} as const;

export const LOCATION_EVENTS = {
  ...entityEvents(LocationEntity),
  /** Its regions (listed) went with it, with their connections and NPC relationships. */
  LocationDeleted: { location_id: z.string(), region_ids: z.array(z.string()) },
  ...entityEvents(RegionEntity),
  ...entityEvents(RegionConnectionEntity),
  NpcRegionRelationshipSet: { npc_region_relationship: NpcRegionRelationshipSchema },
  NpcRegionRelationshipRemoved: { npc_region_relationship_id: z.string(), character_id: z.string(), region_id: z.string() },
} as const;

export const SCENE_EVENTS = {
  ...entityEvents(SceneEntity),
  /** The active scene changed (null: no scene). */
  SceneChanged: { scene: SceneSchema.nullable(), previous_scene_id: z.string().nullable() },
  /** The scene's presentation (backdrop) changed. */
  SceneUpdate: { scene: SceneSchema },
} as const;

export const GOAL_EVENTS = entityEvents(GoalEntity);

export const STORY_EVENTS = {
  StoryEventCreated: { story_event: StoryEventSchema },
  StoryEventUpdated: { story_event: StoryEventSchema },
  StoryEventDeleted: { story_event_id: z.string() },
} as const;

export const PROMPT_EVENTS = {
  /** Set or reset: carries the template as it now is. */
  PromptTemplateUpdated: { prompt_template: PromptTemplateSchema },
} as const;
