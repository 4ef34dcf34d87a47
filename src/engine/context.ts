import type { Env, Limits } from "../env";
import type { Character, OperationType, PayloadOf, ResultOf, Region } from "../protocol";
import type { Actor } from "./authorize";
import type { ReadCache } from "./read-cache";
import type { JobService } from "./jobs";
import type { SessionServices } from "./services";
import type { TimerService } from "./timer-service";
import type { Tx } from "./tx";

export type { ServerStream, SessionServices } from "./services";

export interface HandlerContext {
  env: Env;
  db: D1Database;
  limits: Limits;
  actor: Actor;
  session: SessionServices;
  /** Entity reads served from the object's memory (see changes.requireVisible). */
  reads: ReadCache;
  /** Writes and events to commit atomically once the handler returns. */
  tx: Tx;
  now: number;
  /** Long-running work, recorded in this Tx and run after it commits. */
  jobs: JobService;
  /** Timed work (a staging timeout), persisted by the session's scheduler. */
  timers: TimerService;
  /** The domain's hooks, from its one registry (src/domain/registry.ts). */
  hooks: Hooks;
}

/**
 * Runs when a PC has entered a region, inside the move's transaction: it may add statements and
 * events to ctx.tx. Staging (who is present in the region) is one.
 */
export interface RegionEntryHook {
  readonly name: string;
  run(ctx: HandlerContext, move: { character: Character; from: Region | null; to: Region }): Promise<void>;
}

/**
 * Runs after a character is created, updated or deleted, inside the same Tx (null: it did not
 * exist before / no longer exists). Staging's presence is one: who is where may change.
 */
export interface CharacterChangeHook {
  readonly name: string;
  run(ctx: HandlerContext, before: Character | null, after: Character | null): Promise<void>;
}

/** The domain's hooks, each list in the order it was declared. */
export interface Hooks {
  regionEntry: Iterable<RegionEntryHook>;
  characterChange: Iterable<CharacterChangeHook>;
}

/**
 * The code of one operation. Who may call it, whether it writes and which events it may emit are
 * declared with its schema in src/protocol/ops/ (the operation registry), not here.
 */
export interface HandlerDef<K extends OperationType> {
  /**
   * Describes the change in ctx.tx and has no effect outside it (work outside goes to ctx.jobs,
   * which start once committed): a re-sent request id may run it again until the commit refuses it.
   */
  handle(ctx: HandlerContext, payload: PayloadOf<K>): Promise<ResultOf<K>>;
}

export type HandlerType = Exclude<OperationType, "Batch">;
export type HandlerMap = { [K in HandlerType]: HandlerDef<K> };

/** Typed helper: a domain module declares its handlers with full payload/result types. */
export function defineHandlers<T extends Partial<HandlerMap>>(defs: T & Partial<HandlerMap>): T {
  return defs;
}
