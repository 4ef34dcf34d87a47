import type { z } from "zod";
import type { EventType } from "../protocol";
import type { HandlerContext } from "./context";

/**
 * A kind of timed domain work (a staging's auto-approval), declared by a domain module and
 * declared with `defineTimerKind` and listed in src/domain/registry.ts, like job kinds. When due, `fire` runs in the session's
 * write queue with a HandlerContext whose actor is the session itself (SYSTEM_ACTOR); what it
 * writes and emits commits as one Tx. Alarms are at-least-once: `fire` must look at the state
 * and do nothing when there is nothing left to do.
 */
export interface TimerKind<D = unknown> {
  readonly kind: string;
  readonly data: z.ZodType<D>;
  /** The events `fire` may emit (checked like an operation's). */
  readonly events: readonly EventType[];
  fire(ctx: HandlerContext, data: D): Promise<void>;
}

/** Declares a timer kind with its types checked (list it in src/domain/registry.ts). */
export function defineTimerKind<D>(kind: TimerKind<D>): TimerKind<D> {
  return kind;
}

/** The actor of work the session does by itself (timers): a DM's powers, no participant. */
export const SYSTEM_ACTOR = { participant_id: "system", role: "dm" } as const;

export type { TimerService } from "./timer-service";
