import type { Env, Limits } from "../env";
import type { AppError, OperationType, PayloadOf, ResultOf, SessionSettings } from "../protocol";
import type { Actor, Permission } from "./authorize";
import type { ReadCache } from "./read-cache";
import type { ParticipantRow } from "./participants";
import type { JobService } from "./jobs";
import type { Audience, Tx } from "./tx";

/**
 * A live stream of text to an audience (`Stream` frames, ordered by index). Always ended with
 * `done: true` — also on failure or cancellation. Live only: the final text belongs in the
 * committed event that ends the work, for clients that were not connected.
 */
export interface ServerStream {
  readonly id: string;
  readonly ended: boolean;
  send(delta: string): void;
  /** The last frame (`done: true`), with an optional last delta. Later calls do nothing. */
  end(delta?: string): void;
}

/** What the session object offers handlers beyond D1 (its in-memory state and sockets). */
export interface SessionServices {
  readonly sessionId: string;
  readonly worldId: string;
  settings: SessionSettings;
  readonly seq: number;
  onlineParticipantIds(): Set<string>;
  isKicked(participantId: string): boolean;
  /** A participant of this session, from the object's roster (it writes every participant row). */
  participant(participantId: string): ParticipantRow | undefined;
  /** The first `limit` participants, in creation order. */
  roster(limit: number): ParticipantRow[];
  /** Keeps the roster current after a committed change of a participant. */
  rememberParticipant(row: ParticipantRow): void;
  closeParticipant(participantId: string, code: number, reason: AppError): void;
  /** A new live stream to `audience` (`id`: the stream_id clients know, e.g. a job id). */
  openStream(audience: Audience, id?: string): ServerStream;
  /** Jobs started by `actor` inside `tx` (the router gives each handler its own). */
  jobsFor(tx: Tx, actor: Actor, now: number): JobService;
}

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
}

export interface HandlerDef<K extends OperationType> {
  /** Checked by the router before the handler runs (resource checks happen inside). */
  access: Permission;
  /** Writes run one at a time per session, in the order received, and are recorded for replay. */
  write: boolean;
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
