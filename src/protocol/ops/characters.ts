import { z } from "zod";
import { CharacterEntity, CharacterKindSchema, CharacterSchema, InventoryItemEntity, InventoryItemSchema, PageParams, pageOf } from "../entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/**
 * Characters (NPCs and PCs) and their inventories. Players may create and edit their own PCs
 * (`play` here; the handlers check ownership with `own`).
 */
export const CHARACTER_OPS = {
  ListCharacters: op({ access: "read", input: { kind: CharacterKindSchema.optional(), ...PageParams }, output: pageOf(CharacterSchema) }),
  GetCharacter: op({ access: "read", input: { character_id: Id }, output: CharacterSchema }),
  CreateCharacter: op({
    access: "play",
    write: true,
    events: ["CharacterCreated", "RegionPresenceChanged"],
    input: { data: CharacterEntity.create.extend({ kind: CharacterKindSchema }) },
    output: CharacterSchema,
  }),
  /** Hiding an NPC is a deletion for players, revealing it a creation. */
  UpdateCharacter: op({
    access: "play",
    write: true,
    events: ["CharacterUpdated", "CharacterCreated", "CharacterDeleted", "RegionPresenceChanged"],
    input: { character_id: Id, data: CharacterEntity.update, ...ExpectedVersion },
    output: CharacterSchema,
  }),
  DeleteCharacter: op({
    access: "play",
    write: true,
    events: ["CharacterDeleted", "RegionPresenceChanged"],
    input: { character_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),
  SetCharacterStat: op({
    access: "play",
    write: true,
    events: ["CharacterUpdated"],
    input: { character_id: Id, stat: z.string().min(1).max(40), value: z.number().finite().nullable(), ...ExpectedVersion },
    output: CharacterSchema,
  }),

  // --- inventory ---
  ListInventory: op({ access: "read", input: { character_id: Id, ...PageParams }, output: pageOf(InventoryItemSchema) }),
  AddInventoryItem: op({
    access: "play",
    write: true,
    events: ["InventoryItemAdded"],
    input: { character_id: Id, data: InventoryItemEntity.create },
    output: InventoryItemSchema,
  }),
  UpdateInventoryItem: op({
    access: "play",
    write: true,
    events: ["InventoryItemUpdated"],
    input: { item_id: Id, data: InventoryItemEntity.update, ...ExpectedVersion },
    output: InventoryItemSchema,
  }),
  RemoveInventoryItem: op({
    access: "play",
    write: true,
    events: ["InventoryItemRemoved"],
    input: { item_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),
  GiveItem: op({
    access: "play",
    write: true,
    events: ["ItemGiven"],
    input: { item_id: Id, to_character_id: Id, quantity: z.number().int().min(1).optional() },
    output: z.object({ from: InventoryItemSchema.nullable(), to: InventoryItemSchema }),
  }),
} as const;
