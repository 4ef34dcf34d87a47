import { z } from "zod";
import { SESSION_OPS } from "./ops/session";
import { CHARACTER_OPS } from "./ops/characters";
import { WORLD_OPS } from "./ops/world";
import { LOCATION_OPS } from "./ops/locations";
import { SCENE_OPS } from "./ops/scenes";
import { GOAL_OPS } from "./ops/goals";
import { STORY_OPS } from "./ops/story";
import { PROMPT_OPS } from "./ops/prompts";
import { JOB_OPS } from "./ops/jobs";
import { ACTANTIAL_OPS, CHALLENGE_OPS, DICE_OPS, STAGING_OPS } from "./ops/gameplay";
import { DIALOGUE_OPS } from "./ops/dialogue";
import { IMAGE_OPS } from "./ops/images";
import { PLAY_OPS } from "./ops/play";
import { op, type FrameLimit } from "./ops/define";

export { ACCESS, FRAME_LIMITS, type Access, type FrameLimit, type OperationDef } from "./ops/define";

/**
 * Composition: several operations in one transaction. Anyone may send a Batch; each of its
 * operations is checked against its own access rule, and may emit its own events.
 */
const COMPOSITION_OPS = {
  Batch: op({
    access: "read",
    write: true,
    frame: "batch",
    events: [],
    input: {
      operations: z
        .array(z.looseObject({ type: z.string() }))
        .min(1)
        .max(100),
      atomic: z.boolean().optional(),
    },
    output: z.object({ results: z.array(z.unknown()) }),
  }),
} as const;

/** The areas, in the order the docs present them. */
export const OPERATION_AREAS = {
  session: SESSION_OPS,
  characters: CHARACTER_OPS,
  world: WORLD_OPS,
  "locations and regions": LOCATION_OPS,
  scenes: SCENE_OPS,
  goals: GOAL_OPS,
  "story events": STORY_OPS,
  "prompt templates": PROMPT_OPS,
  jobs: JOB_OPS,
  dice: DICE_OPS,
  "actantial model": ACTANTIAL_OPS,
  challenges: CHALLENGE_OPS,
  staging: STAGING_OPS,
  "play loop": PLAY_OPS,
  dialogue: DIALOGUE_OPS,
  images: IMAGE_OPS,
  composition: COMPOSITION_OPS,
} as const;

/**
 * The operation registry: every request payload `type` with who may call it, whether it writes,
 * its frame cap, the events it may emit, its input fields and its result. The router, the client
 * SDK (through the generated ./generated/operation-kinds.ts), docs/operations.md and
 * docs/asyncapi.json all read this one table.
 * Adding an operation = one `op({...})` entry in its area's table under ./ops/ + one handler
 * registered in src/domain/registry.ts.
 */
export const OPERATIONS = {
  ...SESSION_OPS,
  ...CHARACTER_OPS,
  ...WORLD_OPS,
  ...LOCATION_OPS,
  ...SCENE_OPS,
  ...GOAL_OPS,
  ...STORY_OPS,
  ...PROMPT_OPS,
  ...JOB_OPS,
  ...DICE_OPS,
  ...ACTANTIAL_OPS,
  ...CHALLENGE_OPS,
  ...STAGING_OPS,
  ...DIALOGUE_OPS,
  ...IMAGE_OPS,
  ...PLAY_OPS,
  ...COMPOSITION_OPS,
} as const;

export type Operations = typeof OPERATIONS;
export type OperationType = keyof Operations;
export const OPERATION_TYPES = Object.keys(OPERATIONS) as OperationType[];

export function isOperationType(t: unknown): t is OperationType {
  return typeof t === "string" && Object.hasOwn(OPERATIONS, t);
}

/** The frame cap a request of this payload type gets (an unknown type: the default one). */
export function frameLimitOf(type: unknown): FrameLimit {
  return isOperationType(type) ? OPERATIONS[type].frame : "frame";
}

/** Payload fields shared by every operation: a world_id may be given, and must be the session's. */
const Common = { world_id: z.string().optional() };

type InputShape<K extends OperationType> = Operations[K]["input"] extends infer S extends z.ZodRawShape ? S : never;
type PayloadSchemaOf<K extends OperationType> = z.ZodObject<InputShape<K> & typeof Common & { type: z.ZodLiteral<K> }, z.core.$strict>;

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
