import type { Limits } from "../env";
import type { EventLog } from "./eventlog";
import type { Metrics } from "./metrics";
import type { Scheduler } from "./scheduler";

const METRICS_FLUSH_MS = 5_000;
const TRIM_EVERY_EVENTS = 200;
/** The scheduler kinds (and entry ids) of the object's upkeep. */
const DUTY = { flush: "metrics.flush", trim: "log.trim" } as const;

/** The object's upkeep on its scheduler: counters to D1, and event/request log retention. */
export class Upkeep {
  private lastTrimSeq = 0;

  constructor(
    private readonly deps: { db: D1Database; limits: Limits; metrics: Metrics; scheduler: () => Scheduler; log: () => EventLog; sockets: () => number },
  ) {}

  /** The scheduler duties of the upkeep. */
  readonly duties = {
    [DUTY.flush]: () => this.deps.metrics.flush(this.deps.db, this.deps.log().sessionId, this.deps.sockets(), Date.now()),
    [DUTY.trim]: () => {
      const l = this.deps.limits;
      return this.deps.log().trim({ minEvents: l.eventLogMinEvents, minAgeMs: l.eventLogMinAgeMs, requestTtlMs: l.requestLogTtlMs }, Date.now());
    },
  };

  /** The session loaded at `seq`: retention counts from there. */
  loaded(seq: number): void {
    this.lastTrimSeq = seq;
  }

  /** Counters reach D1 at most METRICS_FLUSH_MS after the first change since the last flush. */
  afterRequest(): void {
    if (!this.deps.metrics.dirty) return;
    this.deps.scheduler().schedule(DUTY.flush, DUTY.flush, Date.now() + METRICS_FLUSH_MS, null, "earliest");
  }

  /** Every TRIM_EVERY_EVENTS events, retention runs as a duty (retried if D1 fails). */
  afterCommit(): void {
    const seq = this.deps.log().seq;
    if (seq - this.lastTrimSeq < TRIM_EVERY_EVENTS) return;
    this.lastTrimSeq = seq;
    this.deps.scheduler().schedule(DUTY.trim, DUTY.trim, Date.now(), null, "earliest");
  }
}
