import {
  GoalEntity,
  GoalSchema,
  LocationEntity,
  LocationSchema,
  NpcRegionRelationshipSchema,
  RegionConnectionEntity,
  RegionConnectionSchema,
  RegionEntity,
  RegionSchema,
  SceneEntity,
  SceneSchema,
  StoryEventSchema,
  type NpcRegionRelationship,
} from "../protocol";
import type { EntityKind } from "./changes";
import { Table } from "../engine/store";
import { entityKind } from "./crud";

/**
 * The tables and entity kinds of the world-building areas, in one module so that every area (and
 * export/import) reads the same definitions without import cycles between the areas.
 */

export const locations = Table.of("locations", LocationSchema);
export const regions = Table.of("regions", RegionSchema);
export const regionConnections = Table.of("region_connections", RegionConnectionSchema);
export const npcRegionRelationships = Table.of("npc_region_relationships", NpcRegionRelationshipSchema);
export const scenes = Table.of("scenes", SceneSchema);
export const goals = Table.of("goals", GoalSchema);
export const storyEvents = Table.of("story_events", StoryEventSchema);

/** A world's override of a prompt template key (value null: reset to the default). */
export interface PromptOverride {
  id: string;
  version: number;
  created_at: number;
  updated_at: number;
  key: string;
  value: string | null;
}
export const promptOverrides = new Table<PromptOverride>("prompt_templates", ["key", "value"]);

export const LOCATION = entityKind(LocationEntity, locations);
export const REGION = entityKind(RegionEntity, regions);
export const REGION_CONNECTION = entityKind(RegionConnectionEntity, regionConnections);
export const NPC_REGION_RELATIONSHIP: EntityKind<NpcRegionRelationship> = {
  table: npcRegionRelationships,
  what: "NPC-region relationship",
  events: {
    created: "NpcRegionRelationshipSet",
    updated: "NpcRegionRelationshipSet",
    deleted: "NpcRegionRelationshipRemoved",
    key: "npc_region_relationship",
    idKey: "npc_region_relationship_id",
  },
  // Where NPCs live and go is staging material, and may name hidden NPCs.
  dmOnly: true,
};
export const SCENE = entityKind(SceneEntity, scenes);
export const GOAL = entityKind(GoalEntity, goals);
export const STORY_EVENT = entityKind({ name: "StoryEvent", key: "story_event", idKey: "story_event_id" }, storyEvents, {
  hidden: (e) => e.hidden,
});
