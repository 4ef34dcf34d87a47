import { z } from "zod";
import { PageParams, ParticipantSchema, SessionSettingsSchema, WorldSchema, CharacterSchema, pageOf } from "../entities";
import { SceneSchema } from "../world-entities";
import { Id, op } from "./define";

/** Session: ping, snapshot, roster, kick, settings. */
export const SESSION_OPS = {
  Ping: op({
    access: "read",
    input: { delay_ms: z.number().int().min(0).max(30_000).optional() },
    output: z.object({ pong: z.literal(true), server_time: z.number() }),
  }),
  GetSessionSnapshot: op({
    access: "read",
    input: {},
    output: z.object({
      session: z.object({ id: z.string(), world_id: z.string(), settings: SessionSettingsSchema, seq: z.number().int() }),
      world: WorldSchema,
      you: ParticipantSchema,
      participants: z.array(ParticipantSchema),
      characters: z.array(CharacterSchema),
      current_scene: SceneSchema.nullable(),
    }),
  }),
  ListParticipants: op({ access: "read", input: { ...PageParams }, output: pageOf(ParticipantSchema) }),
  KickParticipant: op({
    access: "dm",
    write: true,
    events: ["ParticipantKicked"],
    input: { participant_id: Id },
    output: z.object({ participant_id: z.string(), kicked: z.literal(true) }),
  }),
  UpdateSessionSettings: op({
    access: "dm",
    write: true,
    events: ["SessionSettingsUpdated"],
    input: { data: SessionSettingsSchema.partial().strict() },
    output: SessionSettingsSchema,
  }),
} as const;
