import type { Env, Limits } from "../env";
import { HANDLERS } from "../domain/registry";
import type { HandlerContext, HandlerDef, HandlerType, SessionServices } from "../engine/context";
import {
  AppError,
  OPERATIONS,
  isOperationType,
  payloadSchema,
  validationError,
  type EventType,
  type OperationType,
  type Result,
} from "../protocol";
import { authorize, type Actor } from "../engine/authorize";
import type { EventLog, StoredEvent } from "./eventlog";
import type { Metrics } from "./metrics";
import type { ReadCache } from "../engine/read-cache";
import type { JobService } from "../engine/jobs";
import type { TimerService } from "../engine/timers";
import { Tx } from "../engine/tx";
import { redactCharacterRefs } from "../domain/character-refs";
import type { PendingEvent } from "../engine/tx";
import type { RequestLogPolicy } from "./request-log";
import type { Deadlines } from "./deadlines";

export interface RouterDeps {
  env: Env;
  db: D1Database;
  limits: Limits;
  session: SessionServices;
  log: EventLog;
  metrics: Metrics;
  /** Entity reads cached by the single writer; cleared around every commit. */
  reads: ReadCache;
  /** The session's write queue: writes are handled and committed in groups (see WriteGroups). */
  writes: WriteGroups;
  /** The session's handler deadlines (one timer for all requests in progress). */
  deadlines: Deadlines;
  /** Whether this request's log line is wanted (LOG_REQUESTS): when not, it is never built. */
  logRequest: RequestLogPolicy;
  /** Sends the response, then broadcasts the committed events (called inside the serial section). */
  deliver(result: Result, events: StoredEvent[]): void;
  /** Called after each commit, e.g. to trim the logs now and then. */
  afterCommit(): void;
  /** The jobs a handler starts inside its Tx (run once it commits). */
  jobs(tx: Tx, actor: Actor, now: number): JobService;
  /** The timers a handler schedules inside its Tx. */
  timers(tx: Tx): TimerService;
}

type Prepared = { type: OperationType; payload: { type: string } & Record<string, unknown> };

/**
 * One request through the pipeline: validate → authorize → handle → commit → respond → broadcast.
 * Always ends in exactly one deliver() call, success or error.
 */
export async function routeRequest(deps: RouterDeps, actor: Actor, requestId: string, raw: unknown): Promise<void> {
  const started = Date.now();
  let op = "unknown";
  let code = "OK";
  let replayed = false;
  try {
    // Named as soon as it is known, so refused requests are logged and counted under their operation.
    if (isOperationType((raw as { type?: unknown } | null)?.type)) op = (raw as { type: string }).type;
    const prepared = prepare(deps, actor, raw);
    // Read-only work (a Batch of reads too) never enters the write queue.
    if (!isWrite(prepared)) {
      const tx = new Tx();
      const data = await withTimeout(deps, runOne(deps, actor, tx, prepared));
      checkDeclaredEvents(prepared, tx); // a read declares none: an event would be lost silently
      deps.deliver({ status: "success", data }, []);
      return;
    }
    const outcome = await deps.writes.submit({ deps, actor, requestId, prepared });
    code = outcome.code;
    replayed = outcome.replayed;
  } catch (err) {
    const e = AppError.from(err);
    code = e.code;
    if (!(err instanceof AppError)) console.error(JSON.stringify({ msg: "handler failed", op, error: String(err), stack: (err as Error)?.stack }));
    deps.deliver({ status: "error", ...e.toBody() }, []);
  } finally {
    const duration_ms = Date.now() - started;
    deps.metrics.request(op, code, duration_ms);
    // One structured line per request (`wrangler tail` shows it, Workers Logs index it), when
    // LOG_REQUESTS wants it: otherwise not even built.
    if (deps.logRequest(code, duration_ms)) console.log(
      JSON.stringify({
        msg: "request",
        session_id: deps.session.sessionId,
        op,
        request_id: requestId,
        participant_id: actor.participant_id,
        role: actor.role,
        code,
        replayed,
        duration_ms,
      }),
    );
  }
}

/** A write waiting in the queue for its group. */
interface Write {
  deps: RouterDeps;
  actor: Actor;
  requestId: string;
  prepared: Prepared;
}

/** How a write ended, for the request log line (its answer has been delivered). */
interface WriteOutcome {
  code: string;
  replayed: boolean;
}

/** A member whose handler ran inside the group: its Tx waits for the group's commit. */
type Queued = { write: Write; done: (o: WriteOutcome) => void };
type Committable = Queued & { tx: Tx; data: unknown; now: number };
type Handled = Committable | (Queued & { error: unknown });

/** At most this many writes commit in one D1 batch… */
export const GROUP_MAX_WRITES = 32;
/** …and no write joins a group whose statements reach this many (a large import commits nearly alone). */
export const GROUP_MAX_STATEMENTS = 500;

/**
 * Group commit. Writes that arrive while a group is being handled or committed wait in a queue;
 * the next group takes them in arrival order, handles each in a child of one group Tx (so each
 * sees the pending changes of the ones before it: engine/overlay.ts), and commits them in ONE D1
 * batch. Answers and broadcasts go out in commit order once it committed. If the batch fails (a
 * re-sent request id hits the request log's primary key, or one member's statements fail), every
 * member is tried again alone, so one bad write cannot fail the others; the re-sent id is then
 * answered with its recorded response.
 *
 * A group ends early: before a write with effects outside its Tx (it runs alone, looking up its
 * request id first, never twice), before a second copy of a request id already in the group, and
 * after a write whose commit changes the object's memory (Tx.onCommit: the roster, the settings),
 * which later handlers read.
 */
export class WriteGroups {
  private readonly queue: Queued[] = [];
  private scheduled = false;

  /** `serial` runs one writer at a time (joins and the session's own writes queue there too). */
  constructor(private readonly serial: (fn: () => Promise<void>) => Promise<void>) {}

  /** Resolves once the write has been answered (never rejects: errors are answers too). */
  submit(write: Write): Promise<WriteOutcome> {
    return new Promise((done) => {
      this.queue.push({ write, done });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    void this.serial(async () => {
      try {
        await this.runGroup();
      } finally {
        // Writes queued meanwhile form the next group, behind whatever else queued for the writer.
        this.scheduled = false;
        this.schedule();
      }
    });
  }

  private async runGroup(): Promise<void> {
    const first = this.queue[0];
    if (!first) return;
    if (hasExternalEffects(first.write.prepared)) {
      this.queue.shift();
      first.done(await commitAlone(first.write));
      return;
    }
    const group = new Tx();
    const handled: Handled[] = [];
    const ids = new Set<string>();
    const earlier: PendingEvent[] = [];
    let statements = 0;
    // Writes arriving while earlier members' handlers run join this group.
    for (let next = this.queue[0]; next && handled.length < GROUP_MAX_WRITES && statements < GROUP_MAX_STATEMENTS; next = this.queue[0]) {
      const key = `${next.write.actor.participant_id}\n${next.write.requestId}`;
      if (ids.has(key) || hasExternalEffects(next.write.prepared)) break;
      this.queue.shift();
      ids.add(key);
      const { deps, actor, prepared } = next.write;
      const tx = group.child();
      const now = Date.now();
      try {
        const data = await withTimeout(deps, runOne(deps, actor, tx, prepared, now));
        checkDeclaredEvents(prepared, tx);
        // What players receive is decided against the state the group leaves up to this member.
        await redactCharacterRefs(deps.db, deps.session.sessionId, tx, earlier);
        group.pending.merge(tx.pending);
        earlier.push(...tx.events);
        handled.push({ ...next, tx, data, now });
        statements += tx.statements.length + tx.events.length + 1;
        if (tx.hasCommitEffects) break;
      } catch (error) {
        handled.push({ ...next, error });
      }
    }
    const ok = handled.filter((h): h is Committable => "tx" in h);
    let stored: StoredEvent[][] = [];
    if (ok.length > 0) {
      const { reads, log } = first.write.deps;
      reads.invalidate();
      try {
        stored = await log.commitGroup(
          ok.map(({ write, tx, data, now }) => ({
            tx,
            cause: { request_id: write.requestId, participant_id: write.actor.participant_id },
            record: { participant_id: write.actor.participant_id, request_id: write.requestId, data },
            now,
          })),
        );
      } catch {
        // Some member broke the batch: each one again alone, in order (fresh Tx, handler re-run).
        for (const h of handled) h.done(await commitAlone(h.write));
        return;
      } finally {
        reads.invalidate();
      }
    }
    let i = 0;
    for (const h of handled) {
      if ("tx" in h) {
        try {
          h.tx.runCommitted();
        } catch (err) {
          // Committed all the same: its answer is a success; the other members are still answered.
          console.error(JSON.stringify({ msg: "onCommit effect failed", op: h.write.prepared.type, error: String(err) }));
        }
        h.write.deps.deliver({ status: "success", data: h.data }, stored[i++]!);
        h.done({ code: "OK", replayed: false });
      } else {
        // A failed handler may be a re-sent id failing on its own earlier change: its record answers.
        h.done(await answerFailure(h.write, h.error));
      }
    }
    if (ok.length > 0) first.write.deps.afterCommit();
  }
}

/** One write in a Tx and a D1 batch of its own (a write with external effects; a group's retry). */
async function commitAlone(write: Write): Promise<WriteOutcome> {
  const { deps, actor, requestId, prepared } = write;
  try {
    // A handler with effects outside its Tx must not run again for a re-sent id: look first.
    if (hasExternalEffects(prepared) && (await replay(write))) return { code: "OK", replayed: true };
    const tx = new Tx();
    const now = Date.now();
    const data = await withTimeout(deps, runOne(deps, actor, tx, prepared, now));
    checkDeclaredEvents(prepared, tx);
    await redactCharacterRefs(deps.db, deps.session.sessionId, tx);
    deps.reads.invalidate();
    let stored: StoredEvent[];
    try {
      stored = await deps.log.commit(tx, { request_id: requestId, participant_id: actor.participant_id }, { participant_id: actor.participant_id, request_id: requestId, data }, now);
    } finally {
      deps.reads.invalidate();
    }
    tx.runCommitted();
    deps.deliver({ status: "success", data }, stored);
    deps.afterCommit();
    return { code: "OK", replayed: false };
  } catch (err) {
    return answerFailure(write, err);
  }
}

/**
 * No look-up before a fresh write (one D1 round trip saved): a re-sent id shows as a handler
 * failing on its own earlier change or as the commit violating the request log's primary key.
 * Its recorded answer is the answer; otherwise the error is.
 */
async function answerFailure(write: Write, err: unknown): Promise<WriteOutcome> {
  try {
    if (await replay(write)) return { code: "OK", replayed: true };
  } catch (lookupErr) {
    err = lookupErr;
  }
  const e = AppError.from(err);
  if (!(err instanceof AppError)) console.error(JSON.stringify({ msg: "handler failed", op: write.prepared.type, error: String(err), stack: (err as Error)?.stack }));
  write.deps.deliver({ status: "error", ...e.toBody() }, []);
  return { code: e.code, replayed: false };
}

/** Answers a re-sent request id with its recorded response; false when there is none. */
async function replay({ deps, actor, requestId }: Write): Promise<boolean> {
  const recorded = await deps.log.recorded(actor.participant_id, requestId);
  if (!recorded) return false;
  deps.metrics.replayedRequest();
  deps.deliver({ status: "success", data: recorded.data, replayed: true }, []);
  return true;
}

/** Known type → valid payload → same world → allowed for this role. */
function prepare(deps: RouterDeps, actor: Actor, raw: unknown, path: (string | number)[] = ["payload"]): Prepared {
  const type = (raw as { type?: unknown } | null)?.type;
  if (!isOperationType(type)) {
    throw new AppError("UNKNOWN_REQUEST", `unknown request type '${String(type)}'`, { type: String(type) });
  }
  const parsed = payloadSchema(type).safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, path);
  const payload = parsed.data as Prepared["payload"];
  if (payload.world_id !== undefined && payload.world_id !== deps.session.worldId) {
    throw new AppError("FORBIDDEN", "world_id is not this session's world", { world_id: payload.world_id });
  }
  authorize(actor, OPERATIONS[type].access, undefined, `perform ${type}`);
  return { type, payload };
}

/** Each operation's declared events (src/protocol/ops/), as sets. */
const DECLARED_EVENTS = new Map<string, ReadonlySet<EventType>>(
  Object.entries(OPERATIONS).map(([type, def]) => [type, new Set(def.events)]),
);

/**
 * Every event a request emits must be declared for its operation (a Batch: for one of its
 * operations), so that the registry, the docs and the AsyncAPI file tell clients the truth.
 * An undeclared event is a programming error: the request fails with INTERNAL (logged by the
 * caller) before anything commits.
 */
function checkDeclaredEvents(p: Prepared, tx: Tx): void {
  const types = p.type === "Batch" ? (p.payload.operations as { type: string }[]).map((o) => o.type) : [p.type];
  const declared = types.map((t) => DECLARED_EVENTS.get(t));
  const undeclared = tx.events.map((e) => e.event.type).filter((e) => !declared.some((d) => d?.has(e)));
  if (undeclared.length > 0) {
    throw new Error(`${types.join(", ")} emitted undeclared event(s) ${[...new Set(undeclared)].join(", ")}: declare them in src/protocol/ops/`);
  }
}

function context(deps: RouterDeps, actor: Actor, tx: Tx, now: number): HandlerContext {
  const jobs = deps.jobs(tx, actor, now);
  return { env: deps.env, db: deps.db, limits: deps.limits, actor, session: deps.session, reads: deps.reads, tx, now, jobs, timers: deps.timers(tx) };
}

/** Whether the request is a write, or a Batch with at least one write. */
function isWrite(p: Prepared): boolean {
  const ops = p.type === "Batch" ? (p.payload.operations as { type?: string }[]) : [p.payload];
  return ops.some((o) => isOperationType(o.type) && OPERATIONS[o.type].write);
}

/** Whether the request (or an operation of its batch) has effects outside its Tx. */
function hasExternalEffects(p: Prepared): boolean {
  const ops = p.type === "Batch" ? (p.payload.operations as { type?: string }[]) : [p.payload];
  return ops.some((o) => (HANDLERS[o.type as HandlerType] as HandlerDef<HandlerType> | undefined)?.external === true);
}

async function runOne(deps: RouterDeps, actor: Actor, tx: Tx, p: Prepared, now = Date.now()): Promise<unknown> {
  if (p.type === "Batch") return runBatch(deps, actor, tx, p.payload as unknown as { operations: unknown[]; atomic?: boolean }, now);
  const def = HANDLERS[p.type as HandlerType] as unknown as HandlerDef<HandlerType>;
  return def.handle(context(deps, actor, tx, now), p.payload as never);
}

/**
 * A Batch runs its operations in order, each into its own Tx. Atomic (the default): the first
 * failure fails the whole batch, naming its index, and nothing commits. Not atomic: failed
 * operations contribute nothing and report their error; the rest commit together.
 * Each operation reads the batch's changes so far: its child Tx sees the pending changes of the
 * operations merged before it (engine/overlay.ts); a failed operation's child is dropped.
 */
async function runBatch(
  deps: RouterDeps,
  actor: Actor,
  tx: Tx,
  payload: { operations: unknown[]; atomic?: boolean },
  now: number,
): Promise<{ results: unknown[] }> {
  const atomic = payload.atomic ?? true;
  const results: unknown[] = [];
  for (const [index, raw] of payload.operations.entries()) {
    const child = tx.child();
    try {
      if ((raw as { type?: unknown }).type === "Batch") {
        throw new AppError("VALIDATION_ERROR", `invalid field 'payload.operations.${index}.type': batches cannot be nested`);
      }
      // A batch with a write holds the write queue: no client-chosen delay may stretch that.
      if ((raw as { type?: unknown; delay_ms?: unknown }).type === "Ping" && (raw as { delay_ms?: unknown }).delay_ms) {
        throw new AppError("VALIDATION_ERROR", `invalid field 'payload.operations.${index}.delay_ms': not allowed inside a Batch`);
      }
      const data = await runOne(deps, actor, child, prepare(deps, actor, raw, ["payload", "operations", index]), now);
      tx.merge(child);
      results.push(atomic ? data : { status: "success", data });
    } catch (err) {
      const e = AppError.from(err);
      if (atomic) {
        throw new AppError(e.code, `operation ${index} failed: ${e.message}`, { index, error: e.toBody() });
      }
      results.push({ status: "error", ...e.toBody() });
    }
  }
  return { results };
}

/** The handler's work, or TIMEOUT once HANDLER_TIMEOUT_MS have passed (then nothing commits). */
function withTimeout<T>(deps: RouterDeps, work: Promise<T>): Promise<T> {
  const ms = deps.limits.handlerTimeoutMs;
  return deps.deadlines.race(ms, work, () => new AppError("TIMEOUT", `the server did not finish within ${ms} ms; nothing was changed`));
}
