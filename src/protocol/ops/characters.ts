import { z } from "zod";
import {
  CharacterFieldsSchema,
  CharacterKindSchema,
  CharacterSchema,
  InventoryItemFieldsSchema,
  InventoryItemSchema,
  PageParams,
  pageOf,
} from "../entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** Characters (NPCs and PCs) and their inventories. */
export const CHARACTER_OPS = {
  ListCharacters: op({ kind: CharacterKindSchema.optional(), ...PageParams }, pageOf(CharacterSchema)),
  GetCharacter: op({ character_id: Id }, CharacterSchema),
  CreateCharacter: op(
    { data: CharacterFieldsSchema.partial().required({ name: true }).extend({ kind: CharacterKindSchema }).strict() },
    CharacterSchema,
  ),
  UpdateCharacter: op(
    { character_id: Id, data: CharacterFieldsSchema.partial().strict(), ...ExpectedVersion },
    CharacterSchema,
  ),
  DeleteCharacter: op({ character_id: Id, ...ExpectedVersion }, Deleted),
  SetCharacterStat: op(
    { character_id: Id, stat: z.string().min(1).max(40), value: z.number().finite().nullable(), ...ExpectedVersion },
    CharacterSchema,
  ),

  // --- inventory ---
  ListInventory: op({ character_id: Id, ...PageParams }, pageOf(InventoryItemSchema)),
  AddInventoryItem: op(
    { character_id: Id, data: InventoryItemFieldsSchema.partial().required({ name: true }).strict() },
    InventoryItemSchema,
  ),
  UpdateInventoryItem: op(
    { item_id: Id, data: InventoryItemFieldsSchema.partial().strict(), ...ExpectedVersion },
    InventoryItemSchema,
  ),
  RemoveInventoryItem: op({ item_id: Id, ...ExpectedVersion }, Deleted),
  GiveItem: op(
    { item_id: Id, to_character_id: Id, quantity: z.number().int().min(1).optional() },
    z.object({ from: InventoryItemSchema.nullable(), to: InventoryItemSchema }),
  ),

} as const;
