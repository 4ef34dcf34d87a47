import { z } from "zod";
import { ErrorBodySchema, ErrorCodeSchema } from "./errors";
import { ParticipantSchema } from "./entities";

/** The frames of DESIGN.md §1. Client → server first, then server → client. */

export const RequestIdSchema = z.string().min(1).max(128);

export const RequestFrameSchema = z.object({
  type: z.literal("Request"),
  request_id: RequestIdSchema,
  payload: z.looseObject({ type: z.string() }),
});

export const JoinSessionFrameSchema = z.object({
  type: z.literal("JoinSession"),
  last_seq: z.number().int().min(0).optional(),
});

export const AckFrameSchema = z.object({ type: z.literal("Ack"), seq: z.number().int().min(0) });

export const ClientFrameSchema = z.discriminatedUnion("type", [RequestFrameSchema, JoinSessionFrameSchema, AckFrameSchema]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export const SuccessResultSchema = z.object({
  status: z.literal("success"),
  data: z.unknown(),
  /** Present when this is the recorded answer to a request_id seen before. */
  replayed: z.literal(true).optional(),
});
export const ErrorResultSchema = ErrorBodySchema.extend({ status: z.literal("error") });
export const ResultSchema = z.discriminatedUnion("status", [SuccessResultSchema, ErrorResultSchema]);
export type Result = z.infer<typeof ResultSchema>;

/**
 * A Response carries its `result`, or — when the result is larger than the outbound frame limit —
 * `chunks: N`, after N ResponseChunk frames whose `data` strings concatenate to the result's JSON.
 */
export const ResponseFrameSchema = z.object({
  type: z.literal("Response"),
  request_id: RequestIdSchema,
  result: ResultSchema.optional(),
  chunks: z.number().int().min(1).optional(),
});

export const EventCauseSchema = z.object({ request_id: z.string().nullable(), participant_id: z.string().nullable() });

export const EventFrameSchema = z.object({
  type: z.literal("Event"),
  seq: z.number().int(),
  event: z.looseObject({ type: z.string() }),
  cause: EventCauseSchema,
});

export const SessionJoinedFrameSchema = z.object({
  type: z.literal("SessionJoined"),
  session_id: z.string(),
  world_id: z.string(),
  participant: ParticipantSchema,
  participants: z.array(ParticipantSchema),
  /** The session's seq after the replay: the client has seen everything up to here. */
  seq: z.number().int(),
  /** "replayed": missed events were sent before this frame; "snapshot": too old, reload state. */
  resume: z.enum(["replayed", "snapshot"]),
  replayed_events: z.number().int(),
});

export const ResponseChunkFrameSchema = z.object({
  type: z.literal("ResponseChunk"),
  request_id: RequestIdSchema,
  index: z.number().int().min(0),
  total: z.number().int().min(1),
  data: z.string(),
});

export const StreamFrameSchema = z.object({
  type: z.literal("Stream"),
  stream_id: z.string(),
  index: z.number().int().min(0),
  delta: z.string(),
  done: z.boolean(),
});

export const ErrorFrameSchema = z.object({
  type: z.literal("Error"),
  code: ErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const ServerFrameSchema = z.discriminatedUnion("type", [
  ResponseFrameSchema,
  EventFrameSchema,
  SessionJoinedFrameSchema,
  ResponseChunkFrameSchema,
  StreamFrameSchema,
  ErrorFrameSchema,
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type EventFrame = z.infer<typeof EventFrameSchema>;
export type ResponseFrame = z.infer<typeof ResponseFrameSchema>;
export type SessionJoinedFrame = z.infer<typeof SessionJoinedFrameSchema>;

export { CLOSE_CODES, WS_SUBPROTOCOL } from "./constants";
