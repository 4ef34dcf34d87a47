import type { z } from "zod";
import type { HandlerContext } from "./context";

/**
 * A kind of timed domain work (a staging's auto-approval), declared by a domain module and
 * registered with `registerTimerKind`, like job kinds. When due, `fire` runs in the session's
 * write queue with a HandlerContext whose actor is the session itself (SYSTEM_ACTOR); what it
 * writes and emits commits as one Tx. Alarms are at-least-once: `fire` must look at the state
 * and do nothing when there is nothing left to do.
 */
export interface TimerKind<D = unknown> {
  readonly kind: string;
  readonly data: z.ZodType<D>;
  fire(ctx: HandlerContext, data: D): Promise<void>;
}

const KINDS = new Map<string, TimerKind<any>>();

export function registerTimerKind<D>(kind: TimerKind<D>): TimerKind<D> {
  KINDS.set(kind.kind, kind);
  return kind;
}

export function timerKind(name: string): TimerKind<unknown> | undefined {
  return KINDS.get(name);
}

/** The actor of work the session does by itself (timers): a DM's powers, no participant. */
export const SYSTEM_ACTOR = { participant_id: "system", role: "dm" } as const;

export type { TimerService } from "./timer-service";
