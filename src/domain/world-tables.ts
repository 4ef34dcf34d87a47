import type { Goal, Location, NpcRegionRelationship, Region, RegionConnection, Scene, StoryEvent } from "../protocol";
import type { EntityKind } from "./changes";
import { Table } from "../engine/store";

/**
 * The tables and entity kinds of the world-building areas, in one module so that every area (and
 * export/import) reads the same definitions without import cycles between the areas.
 */

export const locations = new Table<Location>("locations", [
  "world_id", "name", "description", "location_type", "backdrop_asset_id", "map_asset_id", "atmosphere", "default_region_id",
]);

export const regions = new Table<Region>(
  "regions",
  ["world_id", "location_id", "name", "description", "backdrop_asset_id", "atmosphere", "is_spawn_point", "sort_order"],
  { bool: ["is_spawn_point"] },
);

export const regionConnections = new Table<RegionConnection>(
  "region_connections",
  ["world_id", "from_region_id", "to_region_id", "bidirectional", "is_locked", "lock_description"],
  { bool: ["bidirectional", "is_locked"] },
);

export const npcRegionRelationships = new Table<NpcRegionRelationship>("npc_region_relationships", [
  "world_id", "character_id", "region_id", "relationship_type", "notes",
]);

export const scenes = new Table<Scene>(
  "scenes",
  ["world_id", "name", "description", "location_id", "time_context", "featured_character_ids", "backdrop_asset_id", "directorial_notes"],
  { json: ["featured_character_ids"] },
);

export const goals = new Table<Goal>("goals", ["world_id", "name", "description"]);

export const storyEvents = new Table<StoryEvent>(
  "story_events",
  ["world_id", "kind", "summary", "details", "character_ids", "location_id", "region_id", "scene_id", "game_time", "tags", "hidden", "created_by"],
  { json: ["details", "character_ids", "tags"], bool: ["hidden"] },
);

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

const events = (entity: string, key: string) => ({
  created: `${entity}Created`,
  updated: `${entity}Updated`,
  deleted: `${entity}Deleted`,
  key,
  idKey: `${key}_id`,
}) as EntityKind<never>["events"];

export const LOCATION: EntityKind<Location> = { table: locations, what: "location", events: events("Location", "location") };
export const REGION: EntityKind<Region> = { table: regions, what: "region", events: events("Region", "region") };
export const REGION_CONNECTION: EntityKind<RegionConnection> = {
  table: regionConnections,
  what: "region connection",
  events: events("RegionConnection", "region_connection"),
};
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
export const SCENE: EntityKind<Scene> = { table: scenes, what: "scene", events: events("Scene", "scene") };
export const GOAL: EntityKind<Goal> = { table: goals, what: "goal", events: events("Goal", "goal") };
export const STORY_EVENT: EntityKind<StoryEvent> = {
  table: storyEvents,
  what: "story event",
  events: events("StoryEvent", "story_event"),
  hidden: (e) => e.hidden,
};
