import { z } from "zod";
import { defineEntity } from "./entity";
import { JsonObjectField } from "./json";

/** Fields every stored entity carries (DESIGN.md §1, "Entities are returned as objects with…"). */
export const EntityBase = {
  id: z.string(),
  version: z.number().int(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
};

/**
 * Keys that only DMs may ever receive. The session strips them, at any depth, from every frame
 * (Response or Event, live or replayed) sent to a non-DM socket: one rule, applied in one place.
 */
export const DM_ONLY_KEYS = new Set(["dm_notes", "directorial_notes", "dm_draft", "dm_reasoning", "dm_feedback", "dm_detail"]);

export const RoleSchema = z.enum(["dm", "player", "spectator"]);
export type Role = z.infer<typeof RoleSchema>;

export const ParticipantSchema = z.object({
  ...EntityBase,
  name: z.string(),
  role: RoleSchema,
  online: z.boolean(),
  kicked: z.boolean(),
});
export type Participant = z.infer<typeof ParticipantSchema>;

export const SessionSettingsSchema = z.object({
  /** DMs approve NPC dialogue before players see it. */
  dialogue_approval: z.boolean(),
  /** Seconds before a pending staging is auto-approved (when auto_approve_staging is on). */
  staging_timeout_seconds: z.number().int().min(5).max(3600),
  auto_approve_staging: z.boolean(),
  /** Players may create their own player character. */
  allow_player_characters: z.boolean(),
  /**
   * Which stats a player may set on its own PC (SetCharacterStat, UpdateCharacter, CreateCharacter)
   * and within which bounds: `stats` lists the keys (["*"]: any; []: none). DMs are not bound.
   */
  player_stat_edits: z.object({
    stats: z.array(z.string().min(1).max(40)).max(100),
    min: z.number().finite(),
    max: z.number().finite(),
  }),
});
export type SessionSettings = z.infer<typeof SessionSettingsSchema>;

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  dialogue_approval: true,
  staging_timeout_seconds: 30,
  auto_approve_staging: true,
  allow_player_characters: true,
  player_stat_edits: { stats: ["*"], min: -10, max: 30 },
};

export const RuleSystemSchema = z.object({
  system_type: z.enum(["d20", "d100", "narrative"]),
  stat_definitions: z.array(z.object({ key: z.string().min(1).max(40), label: z.string().max(80), default: z.number().optional() })).max(100),
});

export const WorldSchema = z.object({
  ...EntityBase,
  session_id: z.string(),
  name: z.string(),
  description: z.string(),
  rule_system: RuleSystemSchema,
});
export type World = z.infer<typeof WorldSchema>;

export const CharacterKindSchema = z.enum(["npc", "pc"]);
const StatsSchema = z.record(z.string().min(1).max(40), z.number().finite());

export const CharacterSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  kind: CharacterKindSchema,
  name: z.string(),
  description: z.string(),
  /** For a PC: the participant who plays it. */
  owner_participant_id: z.string().nullable(),
  /** Hidden NPCs are known to DMs only; players never receive them. */
  hidden: z.boolean(),
  is_alive: z.boolean(),
  is_active: z.boolean(),
  archetype: z.string().nullable(),
  stats: StatsSchema,
  region_id: z.string().nullable(),
  portrait_asset_id: z.string().nullable(),
  sprite_asset_id: z.string().nullable(),
  /** DM only: absent from everything a player or spectator receives. */
  dm_notes: z.string().optional(),
});
export type Character = z.infer<typeof CharacterSchema>;

/** The writable fields of a character, shared by CreateCharacter and UpdateCharacter (its kind is set at creation). */
export const CharacterEntity = defineEntity({
  name: "Character",
  plural: "Characters",
  key: "character",
  schema: CharacterSchema,
  fields: {
    name: z.string().trim().min(1).max(200),
    description: z.string().max(20_000).default(""),
    owner_participant_id: z.string().nullable().default(null),
    hidden: z.boolean().default(false),
    is_alive: z.boolean().default(true),
    is_active: z.boolean().default(true),
    archetype: z.string().max(80).nullable().default(null),
    stats: StatsSchema.default({}),
    region_id: z.string().nullable().default(null),
    portrait_asset_id: z.string().nullable().default(null),
    sprite_asset_id: z.string().nullable().default(null),
    dm_notes: z.string().max(20_000).default(""),
  },
});
export const CharacterFieldsSchema = CharacterEntity.fields;

export const InventoryItemSchema = z.object({
  ...EntityBase,
  character_id: z.string(),
  name: z.string(),
  description: z.string(),
  item_type: z.string(),
  quantity: z.number().int(),
  equipped: z.boolean(),
  properties: JsonObjectField,
});
export type InventoryItem = z.infer<typeof InventoryItemSchema>;

export const InventoryItemEntity = defineEntity({
  name: "InventoryItem",
  plural: "Inventory",
  key: "item",
  schema: InventoryItemSchema,
  fields: {
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5_000).default(""),
    item_type: z.string().min(1).max(40).default("misc"),
    quantity: z.number().int().min(1).max(1_000_000).default(1),
    equipped: z.boolean().default(false),
    properties: JsonObjectField.default({}),
  },
});
export const InventoryItemFieldsSchema = InventoryItemEntity.fields;

/** A page of a list: every List* operation answers with this shape. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

export const PageParams = {
  cursor: z.string().max(500).optional(),
  limit: z.number().int().min(1).max(200).optional(),
};
