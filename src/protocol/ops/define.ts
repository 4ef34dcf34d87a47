import { z } from "zod";
import type { EventType } from "../events";

/**
 * Who may call an operation: the name of a permission. The policy behind each name lives in
 * src/engine/authorize.ts (`read`: every role, `play`: DMs and players, `dm`: DMs only,
 * `own`: DMs or the owner of the resource).
 */
export const ACCESS = ["read", "play", "dm", "own"] as const;
export type Access = (typeof ACCESS)[number];

/**
 * Which inbound frame cap a request of the operation gets: `frame` (limits.maxFrameBytes) or
 * `batch` (limits.maxBatchFrameBytes) for operations that carry many entities at once.
 */
export const FRAME_LIMITS = ["frame", "batch"] as const;
export type FrameLimit = (typeof FRAME_LIMITS)[number];

type Common<I extends z.ZodRawShape, O extends z.ZodType> = {
  /** Checked by the router before the handler runs (resource checks happen inside). */
  access: Access;
  /** Input fields besides `type` (and the `world_id` every payload accepts). */
  input: I;
  output: O;
  /** Defaults to `frame`. */
  frame?: FrameLimit;
};

/** A read changes nothing, emits nothing, runs concurrently and is not recorded. */
type ReadSpec<I extends z.ZodRawShape, O extends z.ZodType> = Common<I, O> & { write?: false; events?: readonly [] };
/**
 * A write runs one at a time per session, in the order received, and is recorded for replay.
 * `events` lists every event type its handler may emit; the router refuses to commit any other.
 */
type WriteSpec<I extends z.ZodRawShape, O extends z.ZodType, E extends EventType> = Common<I, O> & {
  write: true;
  events: readonly E[];
};

export interface OperationDef<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodType = z.ZodType> {
  access: Access;
  write: boolean;
  frame: FrameLimit;
  events: readonly EventType[];
  input: I;
  output: O;
}

/**
 * Declares one operation: who may call it, whether it writes, its frame cap, the events it may
 * emit, its input fields and its result schema. Router, SDK, docs and the AsyncAPI file read it.
 */
export function op<I extends z.ZodRawShape, O extends z.ZodType, E extends EventType = never>(spec: ReadSpec<I, O> | WriteSpec<I, O, E>): OperationDef<I, O> {
  return {
    access: spec.access,
    write: spec.write === true,
    frame: spec.frame ?? "frame",
    events: spec.events ?? [],
    input: spec.input,
    output: spec.output,
  };
}

export const Id = z.string().min(1).max(100);
export const Deleted = z.object({ deleted: z.literal(true) });
export const ExpectedVersion = { expected_version: z.number().int().min(1).optional() };
