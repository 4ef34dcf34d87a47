import { z } from "zod";
import {
  CharacterFieldsSchema,
  CharacterKindSchema,
  CharacterSchema,
  InventoryItemFieldsSchema,
  InventoryItemSchema,
  PageParams,
  ParticipantSchema,
  SessionSettingsSchema,
  WorldSchema,
  pageOf,
} from "./entities";

/**
 * The operation catalogue: every request payload `type`, its input fields and its result.
 * Server handlers, the client SDK's types and the docs all read this one table.
 * Adding an operation = one entry here + one handler registered in src/domain/registry.ts.
 */
function op<I extends z.ZodRawShape, O extends z.ZodType>(input: I, output: O) {
  return { input, output };
}

const Id = z.string().min(1).max(100);
const Deleted = z.object({ deleted: z.literal(true) });
const ExpectedVersion = { expected_version: z.number().int().min(1).optional() };

export const OPERATIONS = {
  // --- session ---
  Ping: op(
    { delay_ms: z.number().int().min(0).max(30_000).optional() },
    z.object({ pong: z.literal(true), server_time: z.number() }),
  ),
  GetSessionSnapshot: op(
    {},
    z.object({
      session: z.object({ id: z.string(), world_id: z.string(), settings: SessionSettingsSchema, seq: z.number().int() }),
      world: WorldSchema,
      you: ParticipantSchema,
      participants: z.array(ParticipantSchema),
      characters: z.array(CharacterSchema),
      current_scene: z.null(),
    }),
  ),
  ListParticipants: op({ ...PageParams }, pageOf(ParticipantSchema)),
  KickParticipant: op({ participant_id: Id }, z.object({ participant_id: z.string(), kicked: z.literal(true) })),
  UpdateSessionSettings: op({ data: SessionSettingsSchema.partial().strict() }, SessionSettingsSchema),

  // --- characters ---
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

  // --- composition ---
  Batch: op(
    {
      operations: z.array(z.looseObject({ type: z.string() })).min(1).max(100),
      atomic: z.boolean().optional(),
    },
    z.object({ results: z.array(z.unknown()) }),
  ),
} as const;

export type Operations = typeof OPERATIONS;
export type OperationType = keyof Operations;
export const OPERATION_TYPES = Object.keys(OPERATIONS) as OperationType[];

export function isOperationType(t: unknown): t is OperationType {
  return typeof t === "string" && Object.hasOwn(OPERATIONS, t);
}

/** Payload fields shared by every operation: a world_id may be given, and must be the session's. */
const Common = { world_id: z.string().optional() };

type InputShape<K extends OperationType> = Operations[K]["input"] extends infer S extends z.ZodRawShape ? S : never;
type PayloadSchemaOf<K extends OperationType> = z.ZodObject<
  InputShape<K> & typeof Common & { type: z.ZodLiteral<K> },
  z.core.$strict
>;

const payloadSchemas = new Map<OperationType, z.ZodType>();

/** The strict zod schema of one operation's payload (unknown keys are a VALIDATION_ERROR). */
export function payloadSchema<K extends OperationType>(type: K): PayloadSchemaOf<K> {
  let schema = payloadSchemas.get(type);
  if (!schema) {
    schema = z.strictObject({ type: z.literal(type), ...Common, ...OPERATIONS[type].input });
    payloadSchemas.set(type, schema);
  }
  return schema as PayloadSchemaOf<K>;
}

export type PayloadOf<K extends OperationType> = z.infer<PayloadSchemaOf<K>>;
/** What the caller writes (defaults not yet applied). */
export type PayloadInput<K extends OperationType> = z.input<PayloadSchemaOf<K>>;
export type ResultOf<K extends OperationType> = z.infer<Operations[K]["output"]>;
export type AnyPayloadInput = { [K in OperationType]: PayloadInput<K> }[OperationType];
