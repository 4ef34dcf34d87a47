/** A timed duty of the session object: what to do (kind), when (due, ms since epoch), with what. */
export interface Entry {
  /** Idempotency key: scheduling the same id again replaces (or, "earliest", keeps the earlier). */
  id: string;
  kind: string;
  due: number;
  data: unknown;
  /** Failed runs so far. */
  attempts: number;
}

/** Runs one due entry. May throw: it is retried with backoff. Must be idempotent (at-least-once). */
export type Duty = (data: any, entry: Entry) => Promise<void> | void;

export interface SchedulerOptions {
  /** Runs of a failing entry before it is dropped (and logged). */
  maxAttempts: number;
  /** First retry delay; doubled on each failure, up to one hour. */
  backoffBaseMs?: number;
}

type Row = { id: string; kind: string; due: number; data: string; attempts: number; rev: number };

const MAX_BACKOFF_MS = 3_600_000;

/**
 * One alarm, many duties. Entries live in the object's own SQLite storage, so they survive
 * hibernation and eviction; `run()` (called by `alarm()`) runs what is due and arms the one alarm
 * for the earliest entry left. Nobody else calls setAlarm.
 */
export class Scheduler {
  private readonly sql: SqlStorage;
  /** The alarm time this instance last set (undefined after a wake: the first arm sets it again). */
  private armedFor: number | null | undefined;
  private rev = 0;
  /**
   * Each entry's due time and revision, as in the table (this instance is its only writer): the
   * metrics flush asks "scheduled sooner already?" after every request, and that costs no SQL.
   */
  private readonly index = new Map<string, { due: number; rev: number }>();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly duties: Record<string, Duty>,
    private readonly opts: SchedulerOptions,
  ) {
    this.sql = storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS schedule (id TEXT PRIMARY KEY, kind TEXT NOT NULL, due INTEGER NOT NULL, data TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, rev INTEGER NOT NULL)",
    );
    for (const r of this.sql.exec<{ id: string; due: number; rev: number }>("SELECT id, due, rev FROM schedule")) {
      this.index.set(r.id, { due: r.due, rev: r.rev });
      this.rev = Math.max(this.rev, r.rev);
    }
  }

  /**
   * Persists an entry and arms the alarm. `mode: "earliest"` keeps an existing entry of this id if
   * it is due sooner (a debounce: "at the latest then").
   */
  schedule(id: string, kind: string, due: number, data: unknown = null, mode: "replace" | "earliest" = "replace"): void {
    if (mode === "earliest") {
      const existing = this.index.get(id);
      if (existing && existing.due <= due) return;
    }
    const rev = ++this.rev;
    this.sql.exec(
      "INSERT OR REPLACE INTO schedule (id, kind, due, data, attempts, rev) VALUES (?, ?, ?, ?, 0, ?)",
      id,
      kind,
      due,
      JSON.stringify(data ?? null),
      rev,
    );
    this.index.set(id, { due, rev });
    this.arm();
  }

  cancel(id: string): void {
    this.sql.exec("DELETE FROM schedule WHERE id = ?", id);
    this.index.delete(id);
    this.arm();
  }

  get(id: string): Entry | undefined {
    const row = this.sql.exec<Row>("SELECT * FROM schedule WHERE id = ?", id).toArray()[0];
    return row ? toEntry(row) : undefined;
  }

  /** Entries of one kind, earliest first. */
  list(kind: string): Entry[] {
    return this.sql.exec<Row>("SELECT * FROM schedule WHERE kind = ? ORDER BY due, id", kind).toArray().map(toEntry);
  }

  /**
   * Runs every entry due at `now`, earliest first, one at a time; a success removes it (unless the
   * duty scheduled its id again meanwhile), a failure retries it later. Then arms the alarm.
   */
  async run(now = Date.now()): Promise<void> {
    try {
      const due = this.sql.exec<Row>("SELECT * FROM schedule WHERE due <= ? ORDER BY due, id", now).toArray();
      for (const row of due) await this.runOne(row, now);
    } finally {
      this.armedFor = undefined; // the alarm that called us is spent
      this.arm();
    }
  }

  private async runOne(row: Row, now: number): Promise<void> {
    const entry = toEntry(row);
    const duty = this.duties[row.kind];
    try {
      if (!duty) throw new Error(`no duty of kind '${row.kind}'`);
      await duty(entry.data, entry);
      this.remove(row);
    } catch (err) {
      const attempts = row.attempts + 1;
      const giveUp = !duty || attempts >= this.opts.maxAttempts;
      console.error(JSON.stringify({ msg: giveUp ? "duty dropped" : "duty failed", id: row.id, kind: row.kind, attempts, error: String(err) }));
      if (giveUp) {
        this.remove(row);
      } else {
        const delay = Math.min(MAX_BACKOFF_MS, (this.opts.backoffBaseMs ?? 1000) * 2 ** (attempts - 1));
        this.sql.exec("UPDATE schedule SET attempts = ?, due = ? WHERE id = ? AND rev = ?", attempts, now + delay, row.id, row.rev);
        if (this.index.get(row.id)?.rev === row.rev) this.index.set(row.id, { due: now + delay, rev: row.rev });
      }
    }
  }

  /** Removes the entry that ran, unless it was scheduled again meanwhile (a newer revision). */
  private remove(row: Row): void {
    this.sql.exec("DELETE FROM schedule WHERE id = ? AND rev = ?", row.id, row.rev);
    if (this.index.get(row.id)?.rev === row.rev) this.index.delete(row.id);
  }

  /** One alarm, at the earliest entry (none when there is nothing left to do). */
  private arm(): void {
    let next: number | null = null;
    for (const { due } of this.index.values()) if (next === null || due < next) next = due;
    if (next === this.armedFor) return;
    this.armedFor = next;
    // Storage writes are ordered and confirmed before any output leaves the object (output gate).
    // (An alarm time in the past fires at once; the runtime refuses times <= 0.)
    const set = next === null ? this.storage.deleteAlarm() : this.storage.setAlarm(Math.max(1, next));
    set.catch((err) => console.error(JSON.stringify({ msg: "arming the alarm failed", error: String(err) })));
  }
}

function toEntry(r: Row): Entry {
  return { id: r.id, kind: r.kind, due: r.due, data: JSON.parse(r.data), attempts: r.attempts };
}
