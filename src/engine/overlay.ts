/** What the overlay needs to know of an entity: its key and its place in creation order. */
export interface Keyed {
  id: string;
  created_at: number;
}

type Match = (row: never) => boolean;

/**
 * The entity changes a unit of work has described but not yet committed (a Batch today, a group
 * of commits later), kept as the rows they leave behind, so that later reads of the same unit see
 * them: read your own writes, although D1 has no interactive transactions.
 *
 * Layered: a child (one operation of a batch) sees its parent's changes; merging it into its
 * parent keeps them, dropping it forgets them (a failed operation contributes nothing).
 * Rows are copied in and out: a handler may not change what another one reads.
 */
export class PendingChanges {
  /** Per table: id → the row as written, or null once deleted. */
  private readonly rows = new Map<string, Map<string, Keyed | null>>();
  /** Per table: the predicates of set deletions (`DELETE … WHERE`), applied to committed rows. */
  private readonly sweeps = new Map<string, Match[]>();

  constructor(private readonly parent?: PendingChanges) {}

  child(): PendingChanges {
    return new PendingChanges(this);
  }

  put(table: string, row: Keyed): void {
    this.own(table).set(row.id, structuredClone(row));
  }

  delete(table: string, id: string): void {
    this.own(table).set(id, null);
  }

  /** Deletes every row `match` selects: the pending ones now, the committed ones as they are read. */
  deleteWhere<E extends Keyed>(table: string, match: (row: E) => boolean): void {
    for (const [id, row] of this.changed(table)) if (row && match(row as E)) this.own(table).set(id, null);
    this.sweeps.set(table, [...(this.sweeps.get(table) ?? []), match as Match]);
  }

  /**
   * A row as this unit of work sees it: its pending change if it has one, else the committed row
   * `load` reads (from D1 or the read cache), unless a set deletion took it.
   */
  async get<E extends Keyed>(table: string, id: string, load: () => Promise<E | null>): Promise<E | null> {
    const pending = this.lookup(table, id);
    if (pending !== undefined) return pending && (structuredClone(pending) as E);
    const committed = await load();
    return committed && !this.swept(table, committed) ? committed : null;
  }

  /**
   * The committed rows of a query with this unit's changes applied, in creation order: changed
   * rows replace (or remove) their committed version, and pending rows `match` selects join in.
   * `match` must select what the query's SQL selects.
   */
  apply<E extends Keyed>(table: string, committed: E[], match: (row: E) => boolean): E[] {
    const changed = this.changed(table);
    if (changed.size === 0 && !this.hasSweeps(table)) return committed;
    const out = committed.filter((row) => !changed.has(row.id) && !this.swept(table, row));
    for (const row of changed.values()) if (row && match(row as E)) out.push(structuredClone(row) as E);
    return out.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The rows of a table written (not deleted) by this unit of work so far, innermost version. */
  written<E extends Keyed>(table: string): E[] {
    return [...this.changed(table).values()].filter((r): r is Keyed => r !== null).map((r) => structuredClone(r) as E);
  }

  /** Keeps a child's changes (the child must have been made by this object's child()). */
  merge(child: PendingChanges): void {
    if (child.parent !== this) throw new Error("merge: not a child of these pending changes");
    for (const [table, rows] of child.rows) for (const [id, row] of rows) this.own(table).set(id, row);
    for (const [table, sweeps] of child.sweeps) this.sweeps.set(table, [...(this.sweeps.get(table) ?? []), ...sweeps]);
  }

  private own(table: string): Map<string, Keyed | null> {
    let rows = this.rows.get(table);
    if (!rows) this.rows.set(table, (rows = new Map()));
    return rows;
  }

  /** undefined: no pending change of that row; null: deleted; else the row as last written. */
  private lookup(table: string, id: string): Keyed | null | undefined {
    for (let layer: PendingChanges | undefined = this; layer; layer = layer.parent) {
      const rows = layer.rows.get(table);
      if (rows?.has(id)) return rows.get(id);
    }
    return undefined;
  }

  /** Every changed row of a table, the innermost layer's version winning. */
  private changed(table: string): Map<string, Keyed | null> {
    const out = this.parent?.changed(table) ?? new Map<string, Keyed | null>();
    for (const [id, row] of this.rows.get(table) ?? []) out.set(id, row);
    return out;
  }

  private hasSweeps(table: string): boolean {
    return (this.sweeps.get(table)?.length ?? 0) > 0 || (this.parent?.hasSweeps(table) ?? false);
  }

  private swept(table: string, committed: Keyed): boolean {
    return (this.sweeps.get(table) ?? []).some((match) => match(committed as never)) || (this.parent?.swept(table, committed) ?? false);
  }
}
