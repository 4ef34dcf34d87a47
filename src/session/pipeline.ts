import type { Env, Limits } from "../env";
import type { Actor } from "../engine/authorize";
import type { HandlerContext, Hooks, SessionServices } from "../engine/context";
import type { JobService } from "../engine/jobs";
import type { ReadCache } from "../engine/read-cache";
import { SYSTEM_ACTOR, type TimerService } from "../engine/timers";
import { Tx, type PendingEvent } from "../engine/tx";
import { redactCharacterRefs } from "../domain/character-refs";
import { AppError, type EventType } from "../protocol";
import type { Deadlines } from "./deadlines";
import type { EventLog, StoredEvent } from "./eventlog";

/**
 * THE write path. Every write — a request (a Batch too), a job's progress or outcome, a timer, an
 * upload, a join or a leave — is a `Write` submitted here, and goes through the same steps:
 *
 *   context → run → declared events → character-reference filter → commit (grouped) → effects
 *   (Tx.onCommit) → answer → broadcast → after-commit duties
 *
 * Nothing else in `src/` commits to the event log (test/node/architecture.test.ts keeps it so).
 */
export interface Write {
  /** Who acts: a request's participant, or SYSTEM_ACTOR for what the session does by itself. */
  actor: Actor;
  /** The participant the events are caused by (null: the session itself). */
  causedBy: string | null;
  /**
   * The request this write answers, or null. A request's answer is recorded in the request log in
   * the same commit (exactly once: a re-sent id is answered from the log, never run twice).
   */
  requestId: string | null;
  /** What it is, for errors and logs: an operation type, "job dialogue.reply", "timer …". */
  what: string;
  /** The events it may emit: any other fails it before anything commits (a programming error). */
  declared: ReadonlySet<EventType>;
  /** Requests must finish within HANDLER_TIMEOUT_MS (then nothing commits). */
  deadline: boolean;
  /** Describes the change in ctx.tx; returns the answer's data, or NOTHING to commit nothing. */
  run(ctx: HandlerContext): Promise<unknown>;
  /** Called in commit order, before the events are broadcast: a request's Response goes here. */
  answer?(outcome: WriteOutcome): void;
}

/** Returned by Write.run when there is nothing to commit (a timer with nothing left to do). */
export const NOTHING: unique symbol = Symbol("nothing to commit");

export type WriteOutcome =
  | { ok: true; data: unknown; events: StoredEvent[]; replayed: boolean; committed: boolean }
  | { ok: false; error: AppError; cause: unknown };

export interface PipelineDeps {
  env: Env;
  limits: Limits;
  session: SessionServices;
  reads: ReadCache;
  deadlines: Deadlines;
  hooks: Hooks;
  /** The session's event log (loaded before any write is submitted). */
  log(): EventLog;
  jobs(tx: Tx, actor: Actor, now: number): JobService;
  timers(tx: Tx): TimerService;
  /** Sends committed events to every socket that may see them. */
  broadcast(events: StoredEvent[]): void;
  /** Called once after each commit (log retention now and then). */
  afterCommit(): void;
  /** A re-sent request answered from the request log. */
  replayed(): void;
}

/** At most this many writes commit in one D1 batch… */
export const GROUP_MAX_WRITES = 32;
/** …and no write joins a group whose statements reach this many (a large import commits nearly alone). */
export const GROUP_MAX_STATEMENTS = 500;

type Queued = { write: Write; done: (o: WriteOutcome) => void };
type Ran = Queued & { tx: Tx; data: unknown; now: number };
type Handled = Ran | (Queued & { nothing: true }) | (Queued & { error: unknown });

/**
 * Group commit. Writes that arrive while a group is being handled or committed wait in a queue;
 * the next group takes them in arrival order, runs each in a child of one group Tx (so each sees
 * the pending changes of the ones before it: engine/overlay.ts), and commits them in ONE D1 batch.
 * Answers and broadcasts go out in commit order once it committed. If the batch fails (a re-sent
 * request id hits the request log's primary key, or one member's statements fail), every member is
 * run again alone, so one bad write cannot fail the others; a re-sent id is then answered with its
 * recorded response.
 *
 * A group ends early before a second copy of a request id already in it, and after a write whose
 * commit changes the object's memory (Tx.onCommit: the roster, the settings, a job's launch),
 * which later writes read.
 */
export class Pipeline {
  private readonly queue: Queued[] = [];
  private running = false;

  constructor(private readonly deps: PipelineDeps) {}

  /** Resolves once the write has been committed (or refused) and answered; never rejects. */
  submit(write: Write): Promise<WriteOutcome> {
    return new Promise((done) => {
      this.queue.push({ write, done });
      void this.drain();
    });
  }

  /**
   * A write that answers no request (a job's step, a timer, an upload, a join): submitted like
   * any other; resolves with its data and whether anything committed, rejects with its error.
   */
  async write<T>(
    actor: Actor,
    what: string,
    declared: Iterable<EventType>,
    run: (ctx: HandlerContext) => Promise<T | typeof NOTHING>,
  ): Promise<{ data: T; committed: boolean }> {
    const causedBy = actor.participant_id === SYSTEM_ACTOR.participant_id ? null : actor.participant_id;
    const o = await this.submit({ actor, causedBy, requestId: null, what, declared: new Set(declared), deadline: false, run });
    if (!o.ok) throw o.error;
    return { data: o.data as T, committed: o.committed };
  }

  /** The context a write (or a read) runs with. */
  context(tx: Tx, actor: Actor, now: number): HandlerContext {
    const d = this.deps;
    return {
      env: d.env,
      db: d.env.DB,
      limits: d.limits,
      actor,
      session: d.session,
      reads: d.reads,
      tx,
      now,
      jobs: d.jobs(tx, actor, now),
      timers: d.timers(tx),
      hooks: d.hooks,
    };
  }

  /** One group at a time, until the queue is empty. */
  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        try {
          await this.runGroup();
        } catch (err) {
          // runGroup answers every member it took; this is a bug in the pipeline itself.
          console.error(JSON.stringify({ msg: "write group failed", error: String(err), stack: (err as Error)?.stack }));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async runGroup(): Promise<void> {
    const group = new Tx();
    const handled: Handled[] = [];
    const ids = new Set<string>();
    const earlier: PendingEvent[] = [];
    let statements = 0;
    // Writes arriving while earlier members run join this group.
    for (let next = this.queue[0]; next && handled.length < GROUP_MAX_WRITES && statements < GROUP_MAX_STATEMENTS; next = this.queue[0]) {
      const { write } = next;
      const key = write.requestId === null ? null : `${write.actor.participant_id}\n${write.requestId}`;
      if (key !== null && ids.has(key)) break;
      this.queue.shift();
      if (key !== null) ids.add(key);
      const tx = group.child();
      const now = Date.now();
      try {
        const data = await this.run(write, tx, now, earlier);
        if (data === NOTHING) {
          handled.push({ ...next, nothing: true });
          continue;
        }
        group.pending.merge(tx.pending);
        earlier.push(...tx.events);
        handled.push({ ...next, tx, data, now });
        statements += tx.statements.length + tx.events.length + 1;
        if (tx.hasCommitEffects) break;
      } catch (error) {
        handled.push({ ...next, error });
      }
    }
    const ran = handled.filter((h): h is Ran => "tx" in h);
    let stored: StoredEvent[][] = [];
    if (ran.length > 0) {
      try {
        stored = await this.commit(ran);
      } catch {
        // Some member broke the batch: each one again alone, in order (fresh Tx, run again).
        for (const h of handled) h.done(await this.alone(h.write));
        return;
      }
    }
    let i = 0;
    for (const h of handled) {
      if ("tx" in h) this.settle(h, h.tx, { ok: true, data: h.data, events: stored[i++]!, replayed: false, committed: true });
      else if ("nothing" in h) this.settle(h, null, { ok: true, data: undefined, events: [], replayed: false, committed: false });
      else h.done(await this.failed(h.write, h.error));
    }
    if (ran.length > 0) this.deps.afterCommit();
  }

  /** A write in a batch of its own: a group's retry after its batch failed. */
  private async alone(write: Write): Promise<WriteOutcome> {
    try {
      const tx = new Tx();
      const now = Date.now();
      const data = await this.run(write, tx, now, []);
      if (data === NOTHING) return this.settled(write, null, { ok: true, data: undefined, events: [], replayed: false, committed: false });
      const [events] = await this.commit([{ write, tx, data, now, done: () => {} }]);
      const outcome = this.settled(write, tx, { ok: true, data, events: events!, replayed: false, committed: true });
      this.deps.afterCommit();
      return outcome;
    } catch (err) {
      return this.failed(write, err);
    }
  }

  /** context → run → declared events → the character-reference filter. */
  private async run(write: Write, tx: Tx, now: number, earlier: PendingEvent[]): Promise<unknown> {
    const ctx = this.context(tx, write.actor, now);
    const work = write.run(ctx);
    const data = write.deadline ? await this.withDeadline(work) : await work;
    if (data === NOTHING) return NOTHING;
    checkDeclared(write, tx);
    // What players receive is decided against the state the group leaves up to this member.
    await redactCharacterRefs(this.deps.env.DB, this.deps.session.sessionId, tx, earlier);
    return data;
  }

  /** ONE D1 batch for the members (statements, events, request records, seq); the read cache is cleared around it. */
  private async commit(members: Ran[]): Promise<StoredEvent[][]> {
    const { reads } = this.deps;
    reads.invalidate();
    try {
      return await this.deps.log().commitGroup(
        members.map(({ write, tx, data, now }) => ({
          tx,
          cause: { request_id: write.requestId, participant_id: write.causedBy },
          record: write.requestId === null ? null : { participant_id: write.actor.participant_id, request_id: write.requestId, data },
          now,
        })),
      );
    } finally {
      reads.invalidate();
    }
  }

  private settle(q: Queued, tx: Tx | null, outcome: WriteOutcome): void {
    q.done(this.settled(q.write, tx, outcome));
  }

  /** Effects, the answer, then the broadcast — in commit order. */
  private settled(write: Write, tx: Tx | null, outcome: WriteOutcome): WriteOutcome {
    if (tx) {
      try {
        tx.runCommitted();
      } catch (err) {
        // Committed all the same: its answer is a success; the other members are still answered.
        console.error(JSON.stringify({ msg: "onCommit effect failed", what: write.what, error: String(err) }));
      }
    }
    write.answer?.(outcome);
    if (outcome.ok) this.deps.broadcast(outcome.events);
    return outcome;
  }

  /**
   * A failed write. No look-up before a fresh request (one D1 round trip saved): a re-sent id
   * shows as a handler failing on its own earlier change or as the commit violating the request
   * log's primary key. Its recorded answer is then the answer; otherwise the error is.
   */
  private async failed(write: Write, err: unknown): Promise<WriteOutcome> {
    if (write.requestId !== null) {
      try {
        const recorded = await this.deps.log().recorded(write.actor.participant_id, write.requestId);
        if (recorded) {
          this.deps.replayed();
          return this.settled(write, null, { ok: true, data: recorded.data, events: [], replayed: true, committed: false });
        }
      } catch (lookupErr) {
        err = lookupErr;
      }
    }
    const error = AppError.from(err);
    if (!(err instanceof AppError)) console.error(JSON.stringify({ msg: "write failed", what: write.what, error: String(err), stack: (err as Error)?.stack }));
    return this.settled(write, null, { ok: false, error, cause: err });
  }

  /** The handler's work, or TIMEOUT once HANDLER_TIMEOUT_MS have passed (then nothing commits). */
  withDeadline<T>(work: Promise<T>): Promise<T> {
    const ms = this.deps.limits.handlerTimeoutMs;
    return this.deps.deadlines.race(ms, work, () => new AppError("TIMEOUT", `the server did not finish within ${ms} ms; nothing was changed`));
  }
}

/**
 * Every event a write emits must be declared (an operation's in src/protocol/ops/, a job kind's or
 * a timer kind's in its declaration), so that the registry, the docs and the AsyncAPI file tell
 * clients the truth. An undeclared event is a programming error: the write fails with INTERNAL
 * before anything commits.
 */
function checkDeclared(write: Write, tx: Tx): void {
  const undeclared = tx.events.map((e) => e.event.type).filter((t) => !write.declared.has(t));
  if (undeclared.length > 0) {
    throw new Error(`${write.what} emitted undeclared event(s) ${[...new Set(undeclared)].join(", ")}: declare them`);
  }
}
