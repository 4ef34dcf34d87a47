import { AppError, type AnyEvent, type EventType } from "../protocol";
import { isDm } from "../engine/authorize";
import { ALL, DMS, NON_DMS, type Tx } from "../engine/tx";
import { type Table, bump, checkVersion, create } from "../engine/store";
import type { HandlerContext } from "../engine/context";

type Versioned = { id: string; version: number; created_at: number; updated_at: number };
type Fields<E> = Omit<E, keyof Versioned>;

/**
 * One kind of world entity: its table, its events and who may see it. The helpers below give
 * every area the same read, write and event rules (DESIGN.md §1, pattern of characters.ts).
 */
export interface EntityKind<E extends Versioned> {
  table: Table<E>;
  /** Name used in error messages ("location 'x' not found"). */
  what: string;
  events: {
    created: EventType;
    updated: EventType;
    deleted: EventType;
    /** `<Entity>Created/Updated` carry the entity under this key… */
    key: string;
    /** …and `<Entity>Deleted` its id under this one. */
    idKey: string;
  };
  /** Entities for which this is true exist for DMs only (hidden story events). */
  hidden?: (e: E) => boolean;
  /** The whole kind is DM material: every event goes to DMs only. */
  dmOnly?: boolean;
  /**
   * What players may see of a visible entity, when that is less than DMs see (e.g. without the
   * ids of hidden NPCs). Returning the same object means "the same for everyone".
   */
  playerView?: (e: E) => E;
}

const hiddenFor = <E extends Versioned>(kind: EntityKind<E>, e: E) => !!kind.dmOnly || (kind.hidden?.(e) ?? false);

/**
 * Emits the events of a change. What is hidden exists for DMs only, so for players a change of
 * visibility is a creation (hidden → visible) or a deletion (visible → hidden); DMs get the plain
 * update. `deletedExtra` adds fields to the deletion event.
 */
export function emitChange<E extends Versioned>(
  tx: Tx,
  kind: EntityKind<E>,
  before: E | null,
  after: E | null,
  deletedExtra: Record<string, unknown> = {},
): void {
  const { created, updated, deleted, key, idKey } = kind.events;
  const withEntity = (type: EventType, e: E) => ({ type, [key]: e }) as unknown as AnyEvent;
  const gone = (id: string) => ({ type: deleted, [idKey]: id, ...deletedExtra }) as unknown as AnyEvent;
  const wasHidden = !!before && hiddenFor(kind, before);
  if (after) {
    const type = before ? updated : created;
    const forPlayers = kind.playerView?.(after) ?? after;
    if (hiddenFor(kind, after)) {
      tx.emit(withEntity(type, after), DMS);
      if (before && !wasHidden) tx.emit(gone(after.id), NON_DMS);
    } else if (before && wasHidden) {
      tx.emit(withEntity(type, after), DMS).emit(withEntity(created, forPlayers), NON_DMS);
    } else {
      emitVisible(tx, kind, after, (e) => withEntity(type, e));
    }
  } else if (before) {
    tx.emit(gone(before.id), wasHidden ? DMS : ALL);
  }
}

/** Emits an event about a visible entity: DMs get it whole, players their view of it. */
export function emitVisible<E extends Versioned>(tx: Tx, kind: EntityKind<E>, e: E, build: (e: E) => AnyEvent): void {
  const forPlayers = kind.playerView?.(e) ?? e;
  if (forPlayers === e) tx.emit(build(e), ALL);
  else tx.emit(build(e), DMS).emit(build(forPlayers), NON_DMS);
}

/** An entity the actor may see; what is hidden from it does not exist for it (NOT_FOUND, no leak). */
export async function requireVisible<E extends Versioned>(ctx: HandlerContext, kind: EntityKind<E>, id: string): Promise<E> {
  // This Tx's own changes first (a batch's earlier operations); else the committed row, from memory.
  const e = await ctx.tx.pending.get(kind.table.name, id, () =>
    ctx.reads.get(`${kind.table.name}:${id}`, () => kind.table.get(ctx.db, ctx.session.sessionId, id)),
  );
  if (!e || (!isDm(ctx.actor) && hiddenFor(kind, e))) throw new AppError("NOT_FOUND", `${kind.what} '${id}' not found`, { id });
  return e;
}

/** An entity as this actor may see it (see EntityKind.playerView). */
export function viewOf<E extends Versioned>(ctx: HandlerContext, kind: EntityKind<E>, e: E): E {
  return isDm(ctx.actor) || !kind.playerView ? e : kind.playerView(e);
}

/** A page as this actor may see it. */
export function pageView<E extends Versioned>(ctx: HandlerContext, kind: EntityKind<E>, page: { items: E[]; next_cursor: string | null }) {
  return { items: page.items.map((e) => viewOf(ctx, kind, e)), next_cursor: page.next_cursor };
}

/** Creates an entity: insert statement and its events. */
export function insertEntity<E extends Versioned>(ctx: HandlerContext, kind: EntityKind<E>, fields: Fields<E>): E {
  const e = create<E>(fields, ctx.now);
  kind.table.add(ctx, e);
  emitChange(ctx.tx, kind, null, e);
  return e;
}

/** Updates an entity after the optimistic-concurrency check: update statement and its events. */
export function updateEntity<E extends Versioned>(ctx: HandlerContext, kind: EntityKind<E>, before: E, patch: Partial<E>, expectedVersion?: number): E {
  checkVersion(before, expectedVersion, kind.what);
  const after = bump(before, patch, ctx.now);
  kind.table.save(ctx, after);
  emitChange(ctx.tx, kind, before, after);
  return after;
}

/** Deletes an entity after the optimistic-concurrency check: delete statement and its event. */
export function deleteEntity<E extends Versioned>(
  ctx: HandlerContext,
  kind: EntityKind<E>,
  before: E,
  expectedVersion?: number,
  deletedExtra?: Record<string, unknown>,
): { deleted: true } {
  checkVersion(before, expectedVersion, kind.what);
  kind.table.remove(ctx, before.id);
  emitChange(ctx.tx, kind, before, null, deletedExtra);
  return { deleted: true };
}

/** Every id must name a row of the table in this session (else NOT_FOUND naming the first missing). */
export async function requireAll<E extends Versioned>(ctx: HandlerContext, table: Table<E>, ids: readonly string[], what: string): Promise<void> {
  const unique = [...new Set(ids)];
  const found = new Set<string>();
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < unique.length; i += 90) {
    const chunk = unique.slice(i, i + 90);
    const wanted = new Set(chunk);
    const rows = await table.rows(ctx, { sql: `id IN (${chunk.map(() => "?").join(", ")})`, params: chunk, match: (e) => wanted.has(e.id) });
    for (const r of rows) found.add(r.id);
  }
  const missing = unique.find((id) => !found.has(id));
  if (missing) throw new AppError("NOT_FOUND", `${what} '${missing}' not found`, { id: missing });
}
