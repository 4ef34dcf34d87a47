/**
 * Per-session counters kept in memory and added to D1 (op_metrics, session_gauges) by the
 * object's alarm; GET /metrics sums them across sessions.
 */
export class Metrics {
  private ops = new Map<string, { count: number; ms: number }>();
  private replayedRequests = 0;
  private replayedEvents = 0;
  dirty = false;

  request(op: string, code: string, ms: number): void {
    const key = `${op}\u0000${code}`;
    const m = this.ops.get(key) ?? { count: 0, ms: 0 };
    m.count += 1;
    m.ms += ms;
    this.ops.set(key, m);
    this.dirty = true;
  }

  replayedRequest(): void {
    this.replayedRequests += 1;
    this.dirty = true;
  }

  replayedEvent(n: number): void {
    this.replayedEvents += n;
    if (n) this.dirty = true;
  }

  /** Moves the counters into D1 and resets them. */
  async flush(db: D1Database, sessionId: string, sockets: number, now: number): Promise<void> {
    const ops = this.ops;
    const rr = this.replayedRequests;
    const re = this.replayedEvents;
    this.ops = new Map();
    this.replayedRequests = 0;
    this.replayedEvents = 0;
    this.dirty = false;
    const statements = [...ops].map(([key, m]) => {
      const [op, code] = key.split("\u0000");
      return db
        .prepare(
          "INSERT INTO op_metrics (session_id, op, code, count, duration_ms_sum) VALUES (?,?,?,?,?) ON CONFLICT (session_id, op, code) DO UPDATE SET count = count + excluded.count, duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum",
        )
        .bind(sessionId, op, code, m.count, m.ms);
    });
    statements.push(
      db
        .prepare(
          "INSERT INTO session_gauges (session_id, sockets, replayed_requests, replayed_events, updated_at) VALUES (?,?,?,?,?) ON CONFLICT (session_id) DO UPDATE SET sockets = excluded.sockets, replayed_requests = replayed_requests + excluded.replayed_requests, replayed_events = replayed_events + excluded.replayed_events, updated_at = excluded.updated_at",
        )
        .bind(sessionId, sockets, rr, re, now),
    );
    await db.batch(statements);
  }
}
