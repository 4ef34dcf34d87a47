import { z } from "zod";
import { CharacterSchema, EntityBase, InventoryItemSchema, WorldSchema } from "./entities";
import { JsonObjectField } from "./json";
import { defineEntity } from "./entity";
import { ActantialViewSchema, ChallengeSchema, WantSchema } from "./gameplay-entities";
import { AssetSchema } from "./image-entities";

/**
 * Entities of the world-building areas: locations, regions and their connections, NPC–region
 * relationships, scenes, goals, story events (the timeline) and prompt templates.
 * Each has a `…Schema` (what the wire carries) and, where it is written, a `…FieldsSchema` (the
 * writable fields, shared by Create and Update).
 */

const AssetId = z.string().min(1).max(100).nullable();
const RefId = z.string().min(1).max(100);

// ---------- locations and regions ----------

export const LocationTypeSchema = z.enum(["interior", "exterior", "abstract"]);

export const LocationSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  name: z.string(),
  description: z.string(),
  location_type: LocationTypeSchema,
  backdrop_asset_id: z.string().nullable(),
  map_asset_id: z.string().nullable(),
  atmosphere: z.string().nullable(),
  /** Where a PC arrives when it enters the location without naming a region. */
  default_region_id: z.string().nullable(),
});
export type Location = z.infer<typeof LocationSchema>;

export const LocationEntity = defineEntity({
  name: "Location",
  plural: "Locations",
  key: "location",
  schema: LocationSchema,
  fields: {
    name: z.string().trim().min(1).max(200),
    description: z.string().max(20_000).default(""),
    location_type: LocationTypeSchema.default("exterior"),
    backdrop_asset_id: AssetId.default(null),
    map_asset_id: AssetId.default(null),
    atmosphere: z.string().max(2_000).nullable().default(null),
    default_region_id: RefId.nullable().default(null),
  },
});
export const LocationFieldsSchema = LocationEntity.fields;

export const RegionSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  location_id: z.string(),
  name: z.string(),
  description: z.string(),
  backdrop_asset_id: z.string().nullable(),
  atmosphere: z.string().nullable(),
  is_spawn_point: z.boolean(),
  /** Display order inside its location. */
  sort_order: z.number().int(),
});
export type Region = z.infer<typeof RegionSchema>;

export const RegionEntity = defineEntity({
  name: "Region",
  plural: "Regions",
  key: "region",
  schema: RegionSchema,
  fields: {
    name: z.string().trim().min(1).max(200),
    description: z.string().max(20_000).default(""),
    backdrop_asset_id: AssetId.default(null),
    atmosphere: z.string().max(2_000).nullable().default(null),
    is_spawn_point: z.boolean().default(false),
    sort_order: z.number().int().min(-1_000_000).max(1_000_000).default(0),
  },
});
export const RegionFieldsSchema = RegionEntity.fields;

export const RegionConnectionSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  from_region_id: z.string(),
  to_region_id: z.string(),
  /** Travel is allowed both ways (else only from → to). */
  bidirectional: z.boolean(),
  is_locked: z.boolean(),
  /** Shown when a move is refused because the way is locked. */
  lock_description: z.string().nullable(),
});
export type RegionConnection = z.infer<typeof RegionConnectionSchema>;

export const RegionConnectionEntity = defineEntity({
  name: "RegionConnection",
  plural: "RegionConnections",
  key: "region_connection",
  schema: RegionConnectionSchema,
  fields: {
    bidirectional: z.boolean().default(true),
    is_locked: z.boolean().default(false),
    lock_description: z.string().max(2_000).nullable().default(null),
  },
});
export const RegionConnectionFieldsSchema = RegionConnectionEntity.fields;

export const NpcRegionRelationshipTypeSchema = z.enum(["home", "work", "frequents", "avoids"]);

/** Where an NPC lives, works, hangs out or never goes: the input of staging (DM only). */
export const NpcRegionRelationshipSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  character_id: z.string(),
  region_id: z.string(),
  relationship_type: NpcRegionRelationshipTypeSchema,
  /** Free detail: a work shift, how often, at what time of day. */
  notes: z.string(),
});
export type NpcRegionRelationship = z.infer<typeof NpcRegionRelationshipSchema>;

// ---------- scenes ----------

export const SceneSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  name: z.string(),
  description: z.string(),
  location_id: z.string().nullable(),
  time_context: z.string(),
  featured_character_ids: z.array(z.string()),
  backdrop_asset_id: z.string().nullable(),
  /** DM only: absent from everything a player or spectator receives. */
  directorial_notes: z.string().optional(),
});
export type Scene = z.infer<typeof SceneSchema>;

export const SceneEntity = defineEntity({
  name: "Scene",
  plural: "Scenes",
  key: "scene",
  schema: SceneSchema,
  fields: {
    name: z.string().trim().min(1).max(200),
    description: z.string().max(20_000).default(""),
    location_id: RefId.nullable().default(null),
    time_context: z.string().max(200).default(""),
    featured_character_ids: z.array(RefId).max(100).default([]),
    backdrop_asset_id: AssetId.default(null),
    directorial_notes: z.string().max(20_000).default(""),
  },
});
export const SceneFieldsSchema = SceneEntity.fields;

// ---------- goals ----------

export const GoalSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  name: z.string(),
  description: z.string(),
});
export type Goal = z.infer<typeof GoalSchema>;

export const GoalEntity = defineEntity({
  name: "Goal",
  plural: "Goals",
  key: "goal",
  schema: GoalSchema,
  fields: {
    name: z.string().trim().min(1).max(200),
    description: z.string().max(20_000).default(""),
  },
});
export const GoalFieldsSchema = GoalEntity.fields;

// ---------- story events (the timeline) ----------

export const StoryEventKindSchema = z.enum([
  "dm_marker",
  "scene_changed",
  "region_entered",
  "dialogue_exchange",
  "challenge_attempted",
  "challenge_resolved",
  "staging_approved",
  "item_given",
  "custom",
]);
export type StoryEventKind = z.infer<typeof StoryEventKindSchema>;

export const StoryEventSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  kind: StoryEventKindSchema,
  summary: z.string(),
  details: JsonObjectField,
  character_ids: z.array(z.string()),
  location_id: z.string().nullable(),
  region_id: z.string().nullable(),
  scene_id: z.string().nullable(),
  /** In-game time as the table tells it ("Day 3, evening"); created_at is the real time. */
  game_time: z.string().nullable(),
  tags: z.array(z.string()),
  /** Hidden story events exist for DMs only; players never receive them. */
  hidden: z.boolean(),
  /** The participant whose action recorded it (null for imported entries). */
  created_by: z.string().nullable(),
});
export type StoryEvent = z.infer<typeof StoryEventSchema>;

export const StoryEventFieldsSchema = z.object({
  summary: z.string().trim().min(1).max(5_000),
  details: JsonObjectField,
  character_ids: z.array(RefId).max(50),
  location_id: RefId.nullable(),
  region_id: RefId.nullable(),
  scene_id: RefId.nullable(),
  game_time: z.string().max(100).nullable(),
  tags: z.array(z.string().min(1).max(40)).max(20),
});

// ---------- prompt templates ----------

export const PromptTemplateCategorySchema = z.enum(["dialogue", "staging", "outcomes", "suggestions"]);

/** One key of the catalogue, with the world's override beside the default. */
export const PromptTemplateSchema = z.object({
  key: z.string(),
  label: z.string(),
  description: z.string(),
  category: PromptTemplateCategorySchema,
  /** Names accepted as `{name}` in the text; any other `{name}` is refused. */
  placeholders: z.array(z.string()),
  default_value: z.string(),
  /** The world's own text, or null when it uses the default. */
  override: z.string().nullable(),
  /** What is used: the override, else the default. */
  value: z.string(),
  /** Version of the override (0 while there is none); SetPromptTemplate's expected_version. */
  version: z.number().int(),
  updated_at: z.number().int().nullable(),
});
export type PromptTemplate = z.infer<typeof PromptTemplateSchema>;

// ---------- the world as one document (ExportWorld / ImportWorld) ----------

export const WORLD_DOCUMENT_FORMAT = "wrldbldr.world/1";

export const WorldDocumentSchema = z.object({
  format: z.literal(WORLD_DOCUMENT_FORMAT),
  exported_at: z.number().int(),
  world: WorldSchema.omit({ session_id: true }).extend({ active_scene_id: z.string().nullable() }),
  locations: z.array(LocationSchema),
  regions: z.array(RegionSchema),
  region_connections: z.array(RegionConnectionSchema),
  npc_region_relationships: z.array(NpcRegionRelationshipSchema),
  scenes: z.array(SceneSchema),
  goals: z.array(GoalSchema),
  story_events: z.array(StoryEventSchema),
  prompt_templates: z.array(
    z.object({ key: z.string(), value: z.string(), version: z.number().int(), created_at: z.number().int(), updated_at: z.number().int() }),
  ),
  characters: z.array(CharacterSchema),
  inventory: z.array(InventoryItemSchema),
  // Gameplay rules (absent from documents of earlier versions: empty).
  wants: z.array(WantSchema).default([]),
  actantial_views: z.array(ActantialViewSchema).default([]),
  challenges: z.array(ChallengeSchema).default([]),
  /** Image metadata (docs/images.md: the bytes stay in R2; an import copies those it finds in this deployment). */
  assets: z.array(AssetSchema).default([]),
});
export type WorldDocument = z.infer<typeof WorldDocumentSchema>;
