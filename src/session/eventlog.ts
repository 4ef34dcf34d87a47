import type { AnyEvent } from "../protocol";
import type { Audience, Tx } from "../engine/tx";

export interface Cause {
  request_id: string | null;
  participant_id: string | null;
}

export interface StoredEvent {
  seq: number;
  event: AnyEvent;
  audience: Audience;
  cause: Cause;
}

interface EventRow {
  seq: number;
  body: string;
  audience: "all" | "dm" | "non_dm" | "some";
  recipients: string | null;
  cause_request_id: string | null;
  cause_participant_id: string | null;
}

/** One member of a group commit: its Tx, what caused it, its recorded response (none for the session's own writes). */
export interface CommitPart {
  tx: Tx;
  cause: Cause;
  record: RecordedResponse | null;
  now: number;
}

export interface RecordedResponse {
  participant_id: string;
  request_id: string;
  data: unknown;
}

/**
 * The session's event log in D1. The object is the only writer of its session, so the next seq
 * is kept in memory once loaded and advanced only after a commit succeeded.
 */
export class EventLog {
  constructor(
    private readonly db: D1Database,
    readonly sessionId: string,
    /** Last committed seq (recovered from sessions.seq on wake). */
    public seq: number,
  ) {}

  /**
   * Group commit: every part's statements, events (seqs consecutive across the parts, in order) and
   * recorded response, then the new session seq, in ONE D1 batch: all parts commit or none does.
   * Returns each part's stored events.
   */
  async commitGroup(parts: readonly CommitPart[]): Promise<StoredEvent[][]> {
    let seq = this.seq;
    const statements: D1PreparedStatement[] = [];
    const stored = parts.map(({ tx, cause, record, now }) => {
      const events: StoredEvent[] = tx.events.map((e) => ({ seq: ++seq, event: e.event, audience: e.audience, cause }));
      statements.push(...tx.statements);
      for (const e of events) statements.push(this.eventRow(e, now));
      if (record) {
        statements.push(
          this.db
            .prepare("INSERT INTO request_log (session_id, participant_id, request_id, response, created_at) VALUES (?,?,?,?,?)")
            .bind(this.sessionId, record.participant_id, record.request_id, JSON.stringify(record.data ?? null), now),
        );
      }
      return events;
    });
    if (seq !== this.seq) statements.push(this.db.prepare("UPDATE sessions SET seq = ? WHERE id = ?").bind(seq, this.sessionId));
    if (statements.length > 0) await this.db.batch(statements);
    this.seq = seq;
    return stored;
  }

  private eventRow(e: StoredEvent, now: number): D1PreparedStatement {
    return this.db
      .prepare(
        "INSERT INTO events (session_id, seq, type, body, audience, recipients, cause_request_id, cause_participant_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
      )
      .bind(
        this.sessionId,
        e.seq,
        e.event.type,
        JSON.stringify(e.event),
        e.audience.kind,
        e.audience.kind === "some" ? JSON.stringify(e.audience.participants) : null,
        e.cause.request_id,
        e.cause.participant_id,
        now,
      );
  }

  /** The recorded response of an earlier request, if any (idempotent replay). */
  async recorded(participantId: string, requestId: string): Promise<{ data: unknown } | null> {
    const row = await this.db
      .prepare("SELECT response FROM request_log WHERE session_id = ? AND participant_id = ? AND request_id = ?")
      .bind(this.sessionId, participantId, requestId)
      .first<{ response: string }>();
    return row ? { data: JSON.parse(row.response) } : null;
  }

  async oldestSeq(): Promise<number | null> {
    const row = await this.db.prepare("SELECT MIN(seq) AS s FROM events WHERE session_id = ?").bind(this.sessionId).first<{ s: number | null }>();
    return row?.s ?? null;
  }

  /** Events after `afterSeq` up to `untilSeq`, in order, a page at a time (bounded memory on long replays). */
  async *between(afterSeq: number, untilSeq: number, pageSize = 200): AsyncGenerator<StoredEvent> {
    let from = afterSeq;
    for (;;) {
      const { results } = await this.db
        .prepare(
          "SELECT seq, body, audience, recipients, cause_request_id, cause_participant_id FROM events WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        )
        .bind(this.sessionId, from, untilSeq, pageSize)
        .all<EventRow>();
      for (const r of results) yield toStored(r);
      if (results.length < pageSize) return;
      from = results[results.length - 1]!.seq;
    }
  }

  /**
   * Retention: keeps at least the newest `minEvents` events AND every event younger than
   * `minAgeMs`; older ones go. Also drops request-log entries older than `requestTtlMs`.
   */
  async trim(opts: { minEvents: number; minAgeMs: number; requestTtlMs: number }, now: number): Promise<void> {
    await this.db.batch([
      this.db
        .prepare("DELETE FROM events WHERE session_id = ? AND seq <= ? AND created_at < ?")
        .bind(this.sessionId, this.seq - opts.minEvents, now - opts.minAgeMs),
      this.db.prepare("DELETE FROM request_log WHERE session_id = ? AND created_at < ?").bind(this.sessionId, now - opts.requestTtlMs),
    ]);
  }
}

function toStored(r: EventRow): StoredEvent {
  const audience: Audience = r.audience === "some" ? { kind: "some", participants: JSON.parse(r.recipients ?? "[]") } : { kind: r.audience };
  return {
    seq: r.seq,
    event: JSON.parse(r.body),
    audience,
    cause: { request_id: r.cause_request_id, participant_id: r.cause_participant_id },
  };
}
