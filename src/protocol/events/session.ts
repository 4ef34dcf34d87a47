import { z } from "zod";
import { CharacterSchema, InventoryItemSchema, ParticipantSchema, SessionSettingsSchema } from "../entities";

/** Events of the session and character areas. */
export const SESSION_EVENTS = {
  ParticipantJoined: { participant: ParticipantSchema },
  ParticipantLeft: { participant_id: z.string() },
  ParticipantKicked: { participant_id: z.string() },
  /** DMs only: the session's new invite code (after RotateInviteCode, or a kick). */
  InviteCodeRotated: { invite_code: z.string(), reason: z.enum(["rotated", "kick"]) },
  SessionSettingsUpdated: { settings: SessionSettingsSchema },
} as const;

export const CHARACTER_EVENTS = {
  CharacterCreated: { character: CharacterSchema },
  CharacterUpdated: { character: CharacterSchema },
  CharacterDeleted: { character_id: z.string() },
  InventoryItemAdded: { item: InventoryItemSchema },
  InventoryItemUpdated: { item: InventoryItemSchema },
  InventoryItemRemoved: { item_id: z.string(), character_id: z.string() },
  ItemGiven: {
    from_character_id: z.string(),
    to_character_id: z.string(),
    quantity: z.number().int(),
    from: InventoryItemSchema.nullable(),
    to: InventoryItemSchema,
  },
} as const;
