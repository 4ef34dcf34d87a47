import type { Limits } from "../env";
import { HANDLERS } from "../domain/registry";
import type { HandlerContext, HandlerDef, HandlerType, SessionServices } from "../engine/context";
import { AppError, OPERATIONS, isOperationType, payloadSchema, validationError, type EventType, type OperationType, type Result } from "../protocol";
import { authorize, type Actor } from "../engine/authorize";
import type { Metrics } from "./metrics";
import { Tx } from "../engine/tx";
import type { RequestLogPolicy } from "./request-log";
import type { Pipeline, WriteOutcome } from "./pipeline";

export interface RouterDeps {
  limits: Limits;
  session: SessionServices;
  metrics: Metrics;
  /** The one write path: writes are run and committed there (in groups). */
  pipeline: Pipeline;
  /** Whether this request's log line is wanted (LOG_REQUESTS): when not, it is never built. */
  logRequest: RequestLogPolicy;
  /** Sends the Response (a write's: inside the pipeline, before its events are broadcast). */
  answer(result: Result): void;
}

type Prepared = { type: OperationType; payload: { type: string } & Record<string, unknown> };

/**
 * One request: validate → authorize → a read runs here, beside the write queue; a write goes
 * through the pipeline (src/session/pipeline.ts). Always ends in exactly one answer, success or
 * error, and one request log line when LOG_REQUESTS wants it.
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
      const data = await deps.pipeline.withDeadline(runOne(deps, tx, actor, prepared, Date.now()));
      // A read declares no event: one would be lost silently.
      if (tx.events.length > 0) throw new Error(`${prepared.type} is a read but emitted ${tx.events.map((e) => e.event.type).join(", ")}`);
      deps.answer({ status: "success", data });
      return;
    }
    const outcome = await deps.pipeline.submit({
      actor,
      causedBy: actor.participant_id,
      requestId,
      what: prepared.type,
      declared: declaredEvents(prepared),
      deadline: true,
      run: (ctx) => runOne(deps, ctx.tx, actor, prepared, ctx.now),
      answer: (o) => deps.answer(resultOf(o)),
    });
    code = outcome.ok ? "OK" : outcome.error.code;
    replayed = outcome.ok && outcome.replayed;
  } catch (err) {
    const e = AppError.from(err);
    code = e.code;
    if (!(err instanceof AppError)) console.error(JSON.stringify({ msg: "handler failed", op, error: String(err), stack: (err as Error)?.stack }));
    deps.answer({ status: "error", ...e.toBody() });
  } finally {
    const duration_ms = Date.now() - started;
    deps.metrics.request(op, code, duration_ms);
    // One structured line per request (`wrangler tail` shows it, Workers Logs index it), when
    // LOG_REQUESTS wants it: otherwise not even built.
    if (deps.logRequest(code, duration_ms))
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

/** A write's outcome as the Response's result. */
function resultOf(o: WriteOutcome): Result {
  if (!o.ok) return { status: "error", ...o.error.toBody() };
  return o.replayed ? { status: "success", data: o.data, replayed: true } : { status: "success", data: o.data };
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
const DECLARED_EVENTS = new Map<string, ReadonlySet<EventType>>(Object.entries(OPERATIONS).map(([type, def]) => [type, new Set(def.events)]));

/** The events a request may emit: its operation's (a Batch: those of its operations). */
function declaredEvents(p: Prepared): ReadonlySet<EventType> {
  if (p.type !== "Batch") return DECLARED_EVENTS.get(p.type) ?? new Set();
  const types = (p.payload.operations as { type: string }[]).map((o) => o.type);
  return new Set(types.flatMap((t) => [...(DECLARED_EVENTS.get(t) ?? [])]));
}

/** Whether the request is a write, or a Batch with at least one write. */
function isWrite(p: Prepared): boolean {
  const ops = p.type === "Batch" ? (p.payload.operations as { type?: string }[]) : [p.payload];
  return ops.some((o) => isOperationType(o.type) && OPERATIONS[o.type].write);
}

async function runOne(deps: RouterDeps, tx: Tx, actor: Actor, p: Prepared, now: number): Promise<unknown> {
  if (p.type === "Batch") return runBatch(deps, actor, tx, p.payload as unknown as { operations: unknown[]; atomic?: boolean }, now);
  const def = HANDLERS[p.type as HandlerType] as unknown as HandlerDef<HandlerType>;
  return def.handle(deps.pipeline.context(tx, actor, now) satisfies HandlerContext, p.payload as never);
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
      const data = await runOne(deps, child, actor, prepare(deps, actor, raw, ["payload", "operations", index]), now);
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
