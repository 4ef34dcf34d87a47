import { z } from "zod";
import { CharacterSchema, InventoryItemSchema, ParticipantSchema, SessionSettingsSchema } from "./entities";

/**
 * Every event the session broadcasts, by `type`. Events carry entities under their snake_case
 * name (`CharacterCreated{character}`); deletions carry the id.
 */
export const EVENTS = {
  ParticipantJoined: { participant: ParticipantSchema },
  ParticipantLeft: { participant_id: z.string() },
  ParticipantKicked: { participant_id: z.string() },
  SessionSettingsUpdated: { settings: SessionSettingsSchema },
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

export type EventType = keyof typeof EVENTS;
export type EventOf<K extends EventType> = { type: K } & z.infer<z.ZodObject<(typeof EVENTS)[K]>>;
export type AnyEvent = { [K in EventType]: EventOf<K> }[EventType];

const eventSchemas = Object.entries(EVENTS).map(([type, shape]) =>
  z.object({ type: z.literal(type), ...shape }),
) as unknown as [z.ZodObject, ...z.ZodObject[]];

export const EventSchema = z.discriminatedUnion("type", eventSchemas) as unknown as z.ZodType<AnyEvent>;
