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

export interface RouterDeps {
  env: Env;
  db: D1Database;
  limits: Limits;
  session: SessionServices;
  log: EventLog;
  metrics: Metrics;
  /** Entity reads cached by the single writer; cleared around every commit. */
  reads: ReadCache;
  /** Runs fn after every earlier serialized call has finished (one writer at a time). */
  serial<T>(fn: () => Promise<T>): Promise<T>;
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
      const data = await withTimeout(deps.limits.handlerTimeoutMs, runOne(deps, actor, tx, prepared));
      checkDeclaredEvents(prepared, tx); // a read declares none: an event would be lost silently
      deps.deliver({ status: "success", data }, []);
      return;
    }
    await deps.serial(async () => {
      // Inside the serial section, so a re-sent id waits for its first copy to commit.
      const replay = async () => {
        const recorded = await deps.log.recorded(actor.participant_id, requestId);
        if (!recorded) return false;
        replayed = true;
        deps.metrics.replayedRequest();
        deps.deliver({ status: "success", data: recorded.data, replayed: true }, []);
        return true;
      };
      // A handler with effects outside its Tx must not run again for a re-sent id: look first.
      if (hasExternalEffects(prepared) && (await replay())) return;
      const tx = new Tx();
      const now = Date.now();
      let data: unknown;
      let stored: StoredEvent[];
      try {
        data = await withTimeout(deps.limits.handlerTimeoutMs, runOne(deps, actor, tx, prepared, now));
        checkDeclaredEvents(prepared, tx);
        // What players receive is decided against the state the whole Tx leaves (a Batch too).
        await redactCharacterRefs(deps.db, deps.session.sessionId, tx);
        deps.reads.invalidate();
        try {
          stored = await deps.log.commit(
            tx,
            { request_id: requestId, participant_id: actor.participant_id },
            { participant_id: actor.participant_id, request_id: requestId, data },
            now,
          );
        } finally {
          deps.reads.invalidate();
        }
      } catch (err) {
        // No look-up before a fresh write (one D1 round trip saved): a re-sent id shows here,
        // as a handler failing on its own earlier change or as the commit violating the request
        // log's primary key (which rolls the whole batch back). Its recorded answer is the answer.
        if (await replay()) return;
        throw err;
      }
      tx.runCommitted();
      deps.deliver({ status: "success", data }, stored);
      deps.afterCommit();
    });
  } catch (err) {
    const e = AppError.from(err);
    code = e.code;
    if (!(err instanceof AppError)) console.error(JSON.stringify({ msg: "handler failed", op, error: String(err), stack: (err as Error)?.stack }));
    deps.deliver({ status: "error", ...e.toBody() }, []);
  } finally {
    const duration_ms = Date.now() - started;
    deps.metrics.request(op, code, duration_ms);
    // One structured line per request: `wrangler tail` shows it, Workers Logs index it.
    console.log(
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

async function withTimeout<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError("TIMEOUT", `the server did not finish within ${ms} ms; nothing was changed`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
