import type { Env, Limits } from "../env";
import type { Actor } from "../engine/authorize";
import type { HandlerContext, ServerStream, SessionServices } from "../engine/context";
import { isFinished, jobs, toJob, type JobKind, type JobOutcomeContext, type JobRow, type JobService } from "../engine/jobs";
import { bump, create } from "../engine/store";
import { only, type Audience, type Tx } from "../engine/tx";
import { AppError, invalidField, validationError, type EventType, type Job, type JobStatus } from "../protocol";
import type { Scheduler } from "./scheduler";
import { NOTHING, type Pipeline } from "./pipeline";
import { SYSTEM_ACTOR } from "../engine/timers";

/** The scheduler kind that watches a job in flight (see `JobRunner.lease`). */
export const JOB_LEASE = "job.lease";
/** How often a job in flight is looked at: the longest an evicted job waits to be picked up. */
export const JOB_LEASE_MS = 30_000;

export interface JobRunnerDeps {
  env: Env;
  limits: Limits;
  db: D1Database;
  session: SessionServices;
  scheduler: Scheduler;
  /** The job kinds by name (src/domain/registry.ts). */
  kinds: { get(name: string): JobKind<unknown, unknown> | undefined };
  openStream(audience: Audience, id: string): ServerStream;
  /** Every step of a job is a write of the session's pipeline (the session itself acts). */
  pipeline: Pipeline;
}

type Outcome = { ok: true; output: unknown } | { ok: false; error: AppError };
type Lease = { job_id: string; deadline: number };
type JobRef = Pick<JobRow, "id" | "kind">;

/**
 * Runs jobs outside the write queue. A job is a row in D1 written in the same commit as the
 * request that started it; from then on every change of its status is a committed write of its
 * own (JobUpdated to its audience). A scheduler entry per job in flight (a lease) times it out,
 * and wakes the object to resume or fail it after an eviction: no job is lost.
 */
export class JobRunner {
  private readonly inFlight = new Map<string, { controller: AbortController; stream: ServerStream }>();

  constructor(private readonly deps: JobRunnerDeps) {}

  /** The JobService of one handler: jobs go into its Tx and run once it committed. */
  service(tx: Tx, actor: Actor, now: number): JobService {
    return {
      kind: (name) => this.deps.kinds.get(name),
      start: (kind, input, opts) => this.start(tx, actor, typeof kind === "string" ? kind : kind.kind, input, opts?.audience, now),
      cancel: (row) => this.cancel(tx, row, actor, now),
    };
  }

  private start(tx: Tx, actor: Actor, kindName: string, input: unknown, audience: Audience | undefined, now: number): Job {
    const kind = this.deps.kinds.get(kindName);
    if (!kind) throw invalidField("kind", `no job kind '${kindName}'`);
    const parsed = kind.input.safeParse(input);
    if (!parsed.success) throw validationError(parsed.error, ["payload", "input"]);
    const { session, db } = this.deps;
    const row = create<JobRow>(
      {
        kind: kind.kind,
        status: "queued",
        input: parsed.data ?? null,
        output: null,
        error: null,
        audience: audience ?? only(actor.participant_id),
        started_by: actor.participant_id,
        attempts: 0,
      },
      now,
    );
    // The lease goes in first: even if the object dies right after the commit, it wakes up for
    // this job. A lease whose commit failed finds no job and is dropped.
    this.lease(row.id, now + this.deps.limits.jobTimeoutMs, now);
    // A pending row too: later writes of the same Tx or group see the job (dialogue's budget counts them).
    jobs.add({ db, session, tx }, row);
    tx.emit({ type: "JobUpdated", job: toJob(row) }, this.audienceOf(row)).onCommit(() => this.launch(row, kind));
    return toJob(row);
  }

  /** JobUpdated goes to the job's audience and always to DMs and the participant who started it. */
  audienceOf(row: JobRow): Audience {
    const a = row.audience;
    if (a.kind === "some" && row.started_by && !a.participants.includes(row.started_by)) return only(...a.participants, row.started_by);
    return a.kind === "non_dm" ? { kind: "all" } : a;
  }

  private abort(jobId: string, reason: AppError): void {
    const running = this.inFlight.get(jobId);
    if (!running) return;
    running.controller.abort(reason);
    running.stream.end();
  }

  private lease(jobId: string, deadline: number, now: number): void {
    this.deps.scheduler.schedule(`job:${jobId}`, JOB_LEASE, Math.min(deadline, now + JOB_LEASE_MS), { job_id: jobId, deadline } satisfies Lease);
  }

  /** After a wake: look at every job that was in flight now rather than at its next lease. */
  expediteLeases(now: number): void {
    for (const e of this.deps.scheduler.list(JOB_LEASE)) this.deps.scheduler.schedule(e.id, e.kind, now, e.data);
  }

  /**
   * The lease duty: a job running here is timed out at its deadline, else watched again later;
   * a job not running here (the object restarted) is resumed or failed, as its kind declares.
   */
  async onLease(data: Lease, now = Date.now()): Promise<void> {
    const running = this.inFlight.get(data.job_id);
    if (running) {
      if (now >= data.deadline) this.abort(data.job_id, new AppError("TIMEOUT", `the job did not finish within ${this.deps.limits.jobTimeoutMs} ms`));
      else this.lease(data.job_id, data.deadline, now);
      return;
    }
    const row = await jobs.get(this.deps.db, this.deps.session.sessionId, data.job_id);
    if (!row || isFinished(row.status)) return;
    const kind = this.deps.kinds.get(row.kind);
    const interrupted = (why: string) =>
      new AppError("UNAVAILABLE", `the job was interrupted by a restart of the session and ${why}`, { reason: "interrupted", attempts: row.attempts });
    if (!kind) return this.finish(row, { ok: false, error: interrupted(`its kind '${row.kind}' is no longer known`) });
    if (kind.onRestart === "fail") return this.finish(row, { ok: false, error: interrupted("cannot be resumed") });
    if (row.attempts >= this.deps.limits.jobMaxAttempts) return this.finish(row, { ok: false, error: interrupted(`gave up after ${row.attempts} attempts`) });
    this.lease(row.id, now + this.deps.limits.jobTimeoutMs, now);
    this.launch(row, kind);
  }

  private launch(row: JobRow, kind: JobKind<unknown, unknown>): void {
    if (this.inFlight.has(row.id)) return;
    const controller = new AbortController();
    const stream = this.deps.openStream(row.audience, row.id);
    this.inFlight.set(row.id, { controller, stream });
    this.execute(row, kind, controller.signal, stream)
      // D1 refused even the failure: the job stays unfinished and its lease picks it up again.
      .catch((err) => console.error(JSON.stringify({ msg: "job left unfinished", job_id: row.id, error: String(err) })))
      .finally(() => this.inFlight.delete(row.id));
  }

  private async execute(queued: JobRow, kind: JobKind<unknown, unknown>, signal: AbortSignal, stream: ServerStream): Promise<void> {
    let outcome: Outcome;
    try {
      const row = await this.transition(queued, ["queued", "running"], (r) => ({ status: "running", attempts: r.attempts + 1 }));
      if (!row) return stream.end(); // cancelled (or finished) before it ran
      const { env, limits, session } = this.deps;
      const record = (build: (ctx: JobOutcomeContext) => void | Promise<void>) => this.record(row, build);
      const output = await abortable(kind.run(kind.input.parse(row.input), { job: toJob(row), signal, stream, env, limits, session, record }), signal);
      outcome = { ok: true, output: output ?? null };
    } catch (err) {
      const reason = signal.aborted ? signal.reason : err;
      if (!(reason instanceof AppError))
        console.error(JSON.stringify({ msg: "job failed", job_id: queued.id, kind: queued.kind, error: String(reason), stack: (reason as Error)?.stack }));
      outcome = { ok: false, error: AppError.from(reason) };
    }
    stream.end();
    await this.finish(queued, outcome);
  }

  /**
   * Commits the end of a job, unless it already ended (a cancellation won): a late outcome is
   * dropped. A kind whose `complete` fails gets its job failed instead.
   */
  private async finish(job: JobRef, outcome: Outcome): Promise<void> {
    try {
      await this.commitOutcome(job, outcome);
    } catch (err) {
      console.error(JSON.stringify({ msg: "job outcome not committed", job_id: job.id, error: String(err) }));
      if (!outcome.ok) throw err; // the lease retries it
      await this.commitOutcome(job, { ok: false, error: AppError.from(err) });
    }
  }

  private async commitOutcome(job: JobRef, given: Outcome): Promise<void> {
    let outcome = given;
    await this.transition(
      job,
      ["queued", "running"],
      (row) => {
        if (!given.ok) {
          // Computed from what was given each time (the write may be built again).
          outcome = { ok: false, error: this.publicError(row.kind, given.error) };
          return { status: "failed", error: outcome.error.toBody() };
        }
        const stored = this.deps.kinds.get(row.kind)?.storedOutput;
        return { status: "succeeded", output: stored ? (stored(given.output) ?? null) : given.output };
      },
      async (ctx) => {
        const kind = this.deps.kinds.get(ctx.job.kind);
        if (outcome.ok) await kind?.complete?.(ctx, outcome.output);
        else kind?.failed?.(ctx, outcome.error);
      },
    );
    this.deps.scheduler.cancel(`job:${job.id}`);
  }

  /**
   * One committed step of a job, in the write queue: re-reads it, and when its status is one of
   * `from`, writes the patch with a JobUpdated event (and what `extra` adds). Null when it was not.
   */
  private async transition(
    job: JobRef,
    from: JobStatus[],
    patch: (row: JobRow) => Partial<JobRow>,
    extra?: (ctx: JobOutcomeContext) => void | Promise<void>,
  ): Promise<JobRow | null> {
    const { db, session } = this.deps;
    let after: JobRow | null = null;
    await this.write(job, async (tx, now) => {
      const row = await jobs.get(db, session.sessionId, job.id);
      if (!row || !from.includes(row.status)) return false;
      after = bump(row, patch(row), now);
      // The kind's own changes first: JobUpdated, last, says the job ended with them.
      await extra?.({ db, tx, session, job: after, now });
      tx.write(jobs.update(db, session.sessionId, after)).emit({ type: "JobUpdated", job: toJob(after) }, this.audienceOf(after));
      return true;
    });
    return after;
  }

  /** A running job's intermediate commit (JobRunContext.record): nothing once the job ended. */
  private record(ref: JobRef, build: (ctx: JobOutcomeContext) => void | Promise<void>): Promise<boolean> {
    const { db, session } = this.deps;
    return this.write(ref, async (tx, now) => {
      const job = await jobs.get(db, session.sessionId, ref.id);
      if (job?.status !== "running") return false;
      await build({ db, tx, session, job, now });
      return true;
    });
  }

  /**
   * A committed write about one job (JobUpdated and its kind's declared events): what `build` adds
   * to the Tx unless it returns false; rejects when the commit fails.
   */
  private async write(job: JobRef, build: (tx: Tx, now: number) => Promise<boolean>): Promise<boolean> {
    const declared: EventType[] = ["JobUpdated", ...(this.deps.kinds.get(job.kind)?.events ?? [])];
    const run = async (ctx: HandlerContext) => ((await build(ctx.tx, ctx.now)) ? null : NOTHING);
    return (await this.deps.pipeline.write(SYSTEM_ACTOR, `job ${job.kind}`, declared, run)).committed;
  }

  /** A failure as its kind lets it be kept and shown (JobKind.publicError). */
  private publicError(kind: string, error: AppError): AppError {
    return this.deps.kinds.get(kind)?.publicError?.(error) ?? error;
  }

  /** Cancels a job: the cancellation commits in the handler's Tx; the run is aborted after. */
  private cancel(tx: Tx, row: JobRow, actor: Actor, now: number): Job {
    const reason = this.publicError(row.kind, new AppError("UNAVAILABLE", "the job was cancelled", { reason: "cancelled", by: actor.participant_id }));
    const after = bump(row, { status: "cancelled", error: reason.toBody() }, now);
    const ctx: JobOutcomeContext = { db: this.deps.db, tx, session: this.deps.session, job: after, now };
    this.deps.kinds.get(row.kind)?.failed?.(ctx, reason);
    tx.write(jobs.update(this.deps.db, this.deps.session.sessionId, after)).emit({ type: "JobUpdated", job: toJob(after) }, this.audienceOf(after));
    tx.onCommit(() => {
      this.abort(row.id, reason);
      this.deps.scheduler.cancel(`job:${row.id}`);
    });
    return toJob(after);
  }
}

/** Settles with the work, or rejects as soon as the signal aborts (a job that ignores it is let go). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
