import { z } from "zod";
import { PageParams, ParticipantSchema, SessionSettingsSchema, WorldSchema, CharacterSchema, pageOf } from "../entities";
import { SceneSchema } from "../world-entities";
import { StagingSchema } from "../gameplay-entities";
import { Id, op } from "./define";

/** Session: ping, snapshot, roster, kick, invite code, settings. */
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
      /** DMs only: stagings awaiting an answer (docs/gameplay.md). */
      pending_stagings: z.array(StagingSchema).optional(),
    }),
  }),
  ListParticipants: op({ access: "read", input: { ...PageParams }, output: pageOf(ParticipantSchema) }),
  /** A kick also replaces the invite code (the kicked participant knows the old one): `invite_code` is the new one. */
  KickParticipant: op({
    access: "dm",
    write: true,
    events: ["ParticipantKicked", "InviteCodeRotated"],
    input: { participant_id: Id },
    output: z.object({ participant_id: z.string(), kicked: z.literal(true), invite_code: z.string() }),
  }),
  /** DM: a new invite code; the old one stops admitting anyone at once. */
  RotateInviteCode: op({ access: "dm", write: true, events: ["InviteCodeRotated"], input: {}, output: z.object({ invite_code: z.string() }) }),
  UpdateSessionSettings: op({
    access: "dm",
    write: true,
    events: ["SessionSettingsUpdated"],
    input: { data: SessionSettingsSchema.partial().strict() },
    output: SessionSettingsSchema,
  }),
} as const;
