import type { AnyEvent } from "../protocol";
import { PendingChanges } from "./overlay";

/** Who may receive an event. DMs receive every event except those for `non_dm`. */
export type Audience =
  | { kind: "all" }
  | { kind: "dm" }
  /** Everyone but DMs: the players' side of a change DMs receive in another form. */
  | { kind: "non_dm" }
  | { kind: "some"; participants: string[] };
export const ALL: Audience = { kind: "all" };
export const DMS: Audience = { kind: "dm" };
export const NON_DMS: Audience = { kind: "non_dm" };
export const only = (...participants: string[]): Audience => ({ kind: "some", participants });

export interface PendingEvent {
  event: AnyEvent;
  audience: Audience;
}

/**
 * What a handler wants to change: D1 statements and the events they cause. Nothing runs until the
 * router commits the whole Tx (with event log rows and the request log entry) in one D1 batch.
 * `pending` holds the entity rows those statements leave behind, for later reads of the same Tx
 * (see overlay.ts; the entity tables of store.ts record and read them).
 */
export class Tx {
  readonly statements: D1PreparedStatement[] = [];
  readonly events: PendingEvent[] = [];
  private readonly afterCommit: (() => void)[] = [];

  constructor(readonly pending = new PendingChanges()) {}

  /** A Tx for one part of this one (a batch operation): it sees this Tx's pending changes. */
  child(): Tx {
    return new Tx(this.pending.child());
  }

  write(...statements: D1PreparedStatement[]): this {
    this.statements.push(...statements);
    return this;
  }

  emit(event: AnyEvent, audience: Audience = ALL): this {
    this.events.push({ event, audience });
    return this;
  }

  /** In-memory effects (cache updates, closing sockets) that must happen only once committed. */
  onCommit(fn: () => void): this {
    this.afterCommit.push(fn);
    return this;
  }

  /** Keeps the changes of a child made by child(); a child that is not merged changes nothing. */
  merge(other: Tx): this {
    this.pending.merge(other.pending);
    this.statements.push(...other.statements);
    this.events.push(...other.events);
    this.afterCommit.push(...other.afterCommit);
    return this;
  }

  /** Whether committing changes in-memory state (onCommit): a group commit ends after such a Tx. */
  get hasCommitEffects(): boolean {
    return this.afterCommit.length > 0;
  }

  runCommitted(): void {
    for (const fn of this.afterCommit) fn();
  }
}
