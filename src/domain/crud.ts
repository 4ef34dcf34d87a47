import type { EntityDecl, EventType } from "../protocol";
import type { HandlerContext, HandlerDef, HandlerType } from "../engine/context";
import { conditions, type Condition, type Table } from "../engine/store";
import { requireAssetRefs } from "./asset-refs";
import { deleteEntity, insertEntity, requireVisible, updateEntity, viewOf, type EntityKind } from "./changes";

type Versioned = { id: string; version: number; created_at: number; updated_at: number };

/**
 * The kind of a declared entity (see changes.ts): its events are `<Name>Created/Updated/Deleted`
 * carrying it under its key, or its id under `<key>_id`; errors name it by its key in words
 * ("region connection") unless `what` says otherwise.
 */
export function entityKind<E extends Versioned>(
  decl: Pick<EntityDecl, "name" | "key" | "idKey">,
  table: Table<E>,
  rules: Omit<EntityKind<E>, "table" | "events" | "what"> & { what?: string } = {},
): EntityKind<E> {
  return {
    ...rules,
    table,
    what: rules.what ?? decl.key.replaceAll("_", " "),
    events: {
      created: `${decl.name}Created` as EventType,
      updated: `${decl.name}Updated` as EventType,
      deleted: `${decl.name}Deleted` as EventType,
      key: decl.key,
      idKey: decl.idKey,
    },
  };
}

type Handler<X extends string> = { [T in X]: T extends HandlerType ? HandlerDef<T> : never };
export type CrudHandlers<N extends string, P extends string> = Handler<`List${P}`> &
  Handler<`Get${N}`> &
  Handler<`Create${N}`> &
  Handler<`Update${N}`> &
  Handler<`Delete${N}`>;

/** Rules of an area that the CRUD kit runs at the right step. */
export interface CrudRules<E> {
  /**
   * Checks a Create's or an Update's data (references, invariants) once the entity is found
   * (`before`: null at Create), before anything is written. Asset references (`*_asset_id`) are
   * always checked first.
   */
  check?: (ctx: HandlerContext, data: Partial<E>, before: E | null) => Promise<void>;
  /**
   * Conditions a List adds to the session scope (its payload's filters; an entity with a
   * `hidden` rule must leave hidden rows out for non-DMs here).
   */
  listWhere?: (ctx: HandlerContext, payload: Record<string, unknown>) => Condition[];
  /** Normalizes checked data before it is written (drops duplicate ids, say). */
  prepare?: (data: Partial<E>) => Partial<E>;
  /**
   * What List and Get return of the entities, when that depends on more than the kind's
   * playerView (scenes: only the featured characters the actor may see).
   */
  view?: (ctx: HandlerContext, items: E[]) => Promise<E[]>;
}

/**
 * List/Get/Create/Update/Delete of a plain entity (its operations: protocol/ops/crud.ts), with
 * the rules every area follows: what the actor may not see does not exist for it (NOT_FOUND), an
 * Update or Delete with a stale expected_version is CONFLICT, every change emits its events to
 * those who may see it (changes.ts), a Create stores the declared defaults of the fields it was
 * not given, and the row is the session's world's. Who may call each is the operation's access.
 * An area with more rules replaces a handler by spreading its own after these.
 */
export function crudHandlers<N extends string, P extends string, E extends Versioned>(
  decl: EntityDecl<N, P>,
  kind: EntityKind<E>,
  rules: CrudRules<E> = {},
): CrudHandlers<N, P> {
  type Payload = Record<string, unknown> & { data: Partial<E>; expected_version?: number; cursor?: string; limit?: number };
  const idOf = (p: Payload) => p[decl.idKey] as string;
  const check = rules.check ?? (async () => {});
  const prepare = rules.prepare ?? ((d: Partial<E>) => d);
  const view = rules.view ?? (async (ctx: HandlerContext, items: E[]) => items.map((e) => viewOf(ctx, kind, e)));
  const handlers = {
    [`List${decl.plural}`]: {
      async handle(ctx: HandlerContext, p: Payload) {
        const { where, params } = conditions(...(rules.listWhere?.(ctx, p) ?? []));
        const page = await kind.table.page(ctx.db, ctx.session.sessionId, { where, params, cursor: p.cursor, limit: p.limit });
        return { items: await view(ctx, page.items), next_cursor: page.next_cursor };
      },
    },
    [`Get${decl.name}`]: {
      handle: async (ctx: HandlerContext, p: Payload) => (await view(ctx, [await requireVisible(ctx, kind, idOf(p))]))[0]!,
    },
    [`Create${decl.name}`]: {
      async handle(ctx: HandlerContext, p: Payload) {
        await requireAssetRefs(ctx, p.data);
        await check(ctx, p.data, null);
        const fields = { world_id: ctx.session.worldId, ...decl.complete(prepare(p.data)) } as unknown as Omit<E, keyof Versioned>;
        return viewOf(ctx, kind, insertEntity(ctx, kind, fields));
      },
    },
    [`Update${decl.name}`]: {
      async handle(ctx: HandlerContext, p: Payload) {
        await requireAssetRefs(ctx, p.data);
        const before = await requireVisible(ctx, kind, idOf(p));
        await check(ctx, p.data, before);
        return viewOf(ctx, kind, updateEntity(ctx, kind, before, prepare(p.data), p.expected_version));
      },
    },
    [`Delete${decl.name}`]: {
      async handle(ctx: HandlerContext, p: Payload) {
        const before = await requireVisible(ctx, kind, idOf(p));
        return deleteEntity(ctx, kind, before, p.expected_version);
      },
    },
  };
  return handlers as unknown as CrudHandlers<N, P>;
}
