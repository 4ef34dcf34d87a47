import type { z } from "zod";
import { AppError, invalidField } from "../protocol";
import { VERSIONED_KEYS, columnsOf, type ColumnKind } from "./entity";
import type { PendingChanges } from "./overlay";
import type { Tx } from "./tx";

interface Versioned {
  id: string;
  version: number;
  created_at: number;
  updated_at: number;
}

type Row = Record<string, unknown>;

/** What a read through a handler's pending changes needs (a HandlerContext is one). */
export interface ReadScope {
  db: D1Database;
  session: { readonly sessionId: string };
  tx: { readonly pending: PendingChanges };
}

/** What a write into a handler's Tx needs (a HandlerContext is one). */
export interface WriteScope extends ReadScope {
  session: { readonly sessionId: string; readonly worldId: string };
  tx: Tx;
}

/**
 * Which rows a query selects, said twice: as SQL (with `?` params) for the committed rows, and as
 * a predicate for the pending ones (see PendingChanges.apply). Table.where builds both.
 */
export interface Filter<E> {
  sql?: string;
  params?: unknown[];
  match: (e: E) => boolean;
}

/** Options of a table beyond its entity's fields. */
export interface TableOptions {
  /**
   * Columns the entity does not carry, written by other code (worlds.active_scene_id). Listed so
   * that the schema test (test/workers/entity-tables.test.ts) knows them.
   */
  extraColumns?: readonly string[];
  /** The scope columns every row carries: session_id and world_id unless said otherwise (worlds: session_id). */
  scope?: readonly string[];
}

/** Every table declared, by name: the schema test compares each with its migrated D1 table. */
const TABLES = new Map<string, Table<Versioned>>();

/** Every declared table (those of the modules imported so far). */
export function declaredTables(): Table<Versioned>[] {
  return [...TABLES.values()];
}

/**
 * One versioned table of the world: row ⇄ entity mapping (JSON and boolean columns), and the
 * reads and write statements every area needs. Every row is scoped by session_id.
 * Declare it with Table.of(name, EntitySchema): the columns, and which hold JSON or 0/1, are
 * read off the zod schema (engine/entity.ts). The constructor takes them spelled out, for rows
 * that are not a protocol entity (jobs, participants).
 */
export class Table<E extends Versioned> {
  private readonly json: Set<string>;
  private readonly bool: Set<string>;
  private readonly extra: readonly string[];
  private readonly scope: readonly string[];

  /** The table of a zod entity schema: its fields besides id/version/created_at/updated_at are its columns. */
  static of<E extends Versioned>(name: string, schema: z.ZodObject & z.ZodType<E>, opts: TableOptions = {}): Table<E> {
    const c = columnsOf(schema);
    type K = keyof E & string;
    return new Table<E>(name, c.fields as K[], { json: c.json as K[], bool: c.bool as K[], ...opts });
  }

  constructor(
    readonly name: string,
    /** Entity fields stored as columns, besides id/version/created_at/updated_at. */
    readonly fields: readonly (keyof E & string)[],
    opts: { json?: readonly (keyof E & string)[]; bool?: readonly (keyof E & string)[] } & TableOptions = {},
  ) {
    this.json = new Set(opts.json ?? []);
    this.bool = new Set(opts.bool ?? []);
    this.extra = opts.extraColumns ?? [];
    this.scope = opts.scope ?? ["session_id", "world_id"];
    if (TABLES.has(name)) throw new Error(`table '${name}' is declared twice`);
    TABLES.set(name, this as unknown as Table<Versioned>);
  }

  /** Every column the D1 table must have (any order): what the schema test checks. */
  get columns(): string[] {
    return [...new Set([...VERSIONED_KEYS, ...this.scope, ...this.fields, ...this.extra])];
  }

  /** How a field's column holds it: JSON text, 0/1, or as is. */
  kindOf(field: string): ColumnKind {
    return this.json.has(field) ? "json" : this.bool.has(field) ? "bool" : "plain";
  }

  fromRow(row: Row): E {
    const e: Row = { id: row.id, version: row.version, created_at: row.created_at, updated_at: row.updated_at };
    for (const f of this.fields) {
      const v = row[f];
      e[f] = this.json.has(f) ? JSON.parse(String(v ?? "null")) : this.bool.has(f) ? v === 1 || v === true : (v ?? null);
    }
    return e as E;
  }

  private toValue(field: string, v: unknown): unknown {
    if (this.json.has(field)) return JSON.stringify(v ?? null);
    if (this.bool.has(field)) return v ? 1 : 0;
    return v ?? null;
  }

  /** The committed row (D1 only: handlers read with find, which sees their pending changes). */
  async get(db: D1Database, sessionId: string, id: string): Promise<E | null> {
    const row = await db.prepare(`SELECT * FROM ${this.name} WHERE session_id = ? AND id = ?`).bind(sessionId, id).first<Row>();
    return row ? this.fromRow(row) : null;
  }

  /** The row as the handler's Tx leaves it (its batch's earlier operations included). */
  find(r: ReadScope, id: string): Promise<E | null> {
    return r.tx.pending.get(this.name, id, () => this.get(r.db, r.session.sessionId, id));
  }

  /** Like find, but a missing row is NOT_FOUND naming what was looked for. */
  async require(r: ReadScope, id: string, what: string): Promise<E> {
    const e = await this.find(r, id);
    if (!e) throw new AppError("NOT_FOUND", `${what} '${id}' not found`, { id });
    return e;
  }

  /** A filter of plain column equalities (null: IS NULL). */
  where(fields: Partial<Record<keyof E & string, string | number | boolean | null>>): Filter<E> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    return {
      sql: entries.map(([f, v]) => (v === null ? `${f} IS NULL` : `${f} = ?`)).join(" AND ") || undefined,
      params: entries.filter(([, v]) => v !== null).map(([f, v]) => this.toValue(f, v)),
      match: (e) => entries.every(([f, v]) => ((e as unknown as Row)[f] ?? null) === v),
    };
  }

  /** Every row the filter selects, in creation order, as the handler's Tx leaves them (rules, cascades). */
  async rows(r: ReadScope, filter: Filter<E>): Promise<E[]> {
    const committed: E[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.page(r.db, r.session.sessionId, { where: filter.sql, params: filter.params, cursor, limit: 500 });
      committed.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return r.tx.pending.apply(this.name, committed, filter.match);
  }

  /**
   * A page in creation order (`order: "desc"`: newest first). `where` adds conditions (SQL fragment
   * with ? params) to the session scope. The cursor is opaque to clients: the (created_at, id) of
   * the last item returned.
   */
  async page(
    db: D1Database,
    sessionId: string,
    opts: { where?: string; params?: unknown[]; cursor?: string; limit?: number; order?: "asc" | "desc" },
  ): Promise<{ items: E[]; next_cursor: string | null }> {
    const limit = opts.limit ?? 50;
    const conds = ["session_id = ?"];
    const params: unknown[] = [sessionId];
    if (opts.where) {
      conds.push(`(${opts.where})`);
      params.push(...(opts.params ?? []));
    }
    if (opts.cursor) {
      const [t, id] = decodeCursor(opts.cursor);
      const cmp = opts.order === "desc" ? "<" : ">";
      conds.push(`(created_at ${cmp} ? OR (created_at = ? AND id ${cmp} ?))`);
      params.push(t, t, id);
    }
    const { results } = await db
      .prepare(
        `SELECT * FROM ${this.name} WHERE ${conds.join(" AND ")} ORDER BY ${opts.order === "desc" ? "created_at DESC, id DESC" : "created_at, id"} LIMIT ?`,
      )
      .bind(...params, limit + 1)
      .all<Row>();
    const items = results.slice(0, limit).map((r) => this.fromRow(r));
    const last = items[items.length - 1];
    return { items, next_cursor: results.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
  }

  insert(db: D1Database, scope: { session_id: string; world_id: string }, e: E): D1PreparedStatement {
    const cols = ["id", "session_id", "world_id", "version", "created_at", "updated_at", ...this.fields.filter((f) => f !== "world_id")];
    const values = cols.map((c) => (c === "session_id" ? scope.session_id : c === "world_id" ? scope.world_id : this.toValue(c, (e as unknown as Row)[c])));
    return db.prepare(`INSERT INTO ${this.name} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`).bind(...values);
  }

  /** Writes every field of `e` (already bumped with `bump`). */
  update(db: D1Database, sessionId: string, e: E): D1PreparedStatement {
    const cols = ["version", "updated_at", ...this.fields.filter((f) => f !== "world_id" && f !== "session_id")];
    const values = cols.map((c) => this.toValue(c, (e as unknown as Row)[c]));
    return db.prepare(`UPDATE ${this.name} SET ${cols.map((c) => `${c} = ?`).join(", ")} WHERE session_id = ? AND id = ?`).bind(...values, sessionId, e.id);
  }

  delete(db: D1Database, sessionId: string, id: string): D1PreparedStatement {
    return db.prepare(`DELETE FROM ${this.name} WHERE session_id = ? AND id = ?`).bind(sessionId, id);
  }

  // Handlers write through these: the statement goes into the Tx, the row into its pending changes.

  add(w: WriteScope, e: E): E {
    w.tx.write(this.insert(w.db, { session_id: w.session.sessionId, world_id: w.session.worldId }, e));
    w.tx.pending.put(this.name, e);
    return e;
  }

  save(w: WriteScope, e: E): E {
    w.tx.write(this.update(w.db, w.session.sessionId, e));
    w.tx.pending.put(this.name, e);
    return e;
  }

  remove(w: WriteScope, id: string): void {
    w.tx.write(this.delete(w.db, w.session.sessionId, id));
    w.tx.pending.delete(this.name, id);
  }

  /** Deletes every row the filter selects (a cascade), without reading them first. */
  removeWhere(w: WriteScope, filter: Filter<E>): void {
    const where = filter.sql ? ` AND (${filter.sql})` : "";
    w.tx.write(w.db.prepare(`DELETE FROM ${this.name} WHERE session_id = ?${where}`).bind(w.session.sessionId, ...(filter.params ?? [])));
    w.tx.pending.deleteWhere(this.name, filter.match);
  }
}

/** A condition for Table.page: SQL with `?` placeholders and its values; falsy ones are skipped. */
export type Condition = readonly [sql: string, ...params: unknown[]] | false | "" | null | undefined;

/** Joins the conditions that apply into Table.page's `where` and `params`. */
export function conditions(...conds: Condition[]): { where?: string; params: unknown[] } {
  const used = conds.filter((c): c is readonly [string, ...unknown[]] => !!c);
  return { where: used.map(([sql]) => sql).join(" AND ") || undefined, params: used.flatMap(([, ...params]) => params) };
}

/** Optimistic concurrency: a stale expected_version is CONFLICT carrying the current entity. */
export function checkVersion<E extends Versioned>(entity: E, expected: number | undefined, what: string): void {
  if (expected !== undefined && expected !== entity.version) {
    throw new AppError("CONFLICT", `${what} '${entity.id}' is at version ${entity.version}, not ${expected}`, {
      current: entity,
      expected_version: expected,
    });
  }
}

/** The next version of an entity with a patch applied. */
export function bump<E extends Versioned>(entity: E, patch: Partial<E>, now: number): E {
  const next = { ...entity };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as Row)[k] = v;
  next.version = entity.version + 1;
  next.updated_at = Math.max(now, entity.updated_at);
  return next;
}

/** A new entity with a fresh time-ordered id and version 1. */
export function create<E extends Versioned>(fields: Omit<E, keyof Versioned>, now: number): E {
  return { id: newId(now), version: 1, created_at: now, updated_at: now, ...fields } as E;
}

let lastMs = 0;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48-bit ms timestamp, a 12-bit counter, then random bits. Ids made later
 * sort later, even within one millisecond — and a Worker's clock does not advance while a
 * request runs, so every entity of one Batch shares a created_at. Lists order by
 * (created_at, id), so creation order is kept without another query.
 */
export function newId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs += 1;
    counter = 0;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = lastMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function encodeCursor(createdAt: number, id: string): string {
  return btoa(JSON.stringify([createdAt, id])).replace(/=+$/, "");
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const v = JSON.parse(atob(cursor));
    if (Array.isArray(v) && typeof v[0] === "number" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw invalidField("cursor", "not a cursor this server issued");
}
