import type { Env, Limits } from "../env";
import type { OperationType, PayloadOf, ResultOf } from "../protocol";
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
}

/**
 * The code of one operation. Who may call it, whether it writes and which events it may emit are
 * declared with its schema in src/protocol/ops/ (the operation registry), not here.
 */
export interface HandlerDef<K extends OperationType> {
  /**
   * The handler has effects outside its Tx (it calls a provider, say). Handlers normally only
   * describe their change, so a re-sent request id may safely run again until the commit detects
   * it; such a handler instead has the request log checked before it runs.
   */
  external?: boolean;
  handle(ctx: HandlerContext, payload: PayloadOf<K>): Promise<ResultOf<K>>;
}

export type HandlerType = Exclude<OperationType, "Batch">;
export type HandlerMap = { [K in HandlerType]: HandlerDef<K> };

/** Typed helper: a domain module declares its handlers with full payload/result types. */
export function defineHandlers<T extends Partial<HandlerMap>>(defs: T & Partial<HandlerMap>): T {
  return defs;
}
