import type { z } from "zod";
import type { Env, Limits } from "../env";
import type { AppError, EventType, Job, JobStatus } from "../protocol";
import type { Permission } from "./authorize";
import type { ServerStream, SessionServices } from "./services";
import { Table } from "./store";
import type { Audience, Tx } from "./tx";

/** A job as stored: the public Job plus what only the engine needs. */
export interface JobRow extends Job {
  input: unknown;
  audience: Audience;
}

export const jobs = new Table<JobRow>("jobs", ["kind", "status", "input", "output", "error", "audience", "started_by", "attempts"], {
  json: ["input", "output", "error", "audience"],
});

/** The public view of a job (its input and audience stay on the server). */
export function toJob(row: JobRow): Job {
  const { input: _input, audience: _audience, ...job } = row;
  return job;
}

export const isFinished = (status: JobStatus) => status === "succeeded" || status === "failed" || status === "cancelled";

/** What a running job may use. It runs outside the write queue: it changes nothing directly. */
export interface JobRunContext {
  job: Job;
  /** Aborted when the job is cancelled or times out: stop calling the provider. */
  signal: AbortSignal;
  /** Live tokens to the job's audience (`stream_id` = the job id); ended by the runner if not by the job. */
  stream: ServerStream;
  env: Env;
  limits: Limits;
  session: SessionServices;
  /**
   * Commits the kind's own intermediate writes and events (progress, results kept as they come)
   * in the write queue, while the job is still running. False (nothing written) once it ended,
   * e.g. cancelled meanwhile.
   */
  record(build: (ctx: JobOutcomeContext) => void | Promise<void>): Promise<boolean>;
}

/** Where a kind writes the committed outcome of its job (its own rows and events). */
export interface JobOutcomeContext {
  db: D1Database;
  tx: Tx;
  session: SessionServices;
  job: JobRow;
  now: number;
}

/**
 * A kind of long-running work, declared by a domain module (LLM dialogue, image generation) with
 * `defineJobKind` and listed in the domain's one registry (src/domain/registry.ts). The runner
 * persists, runs, retries and finishes it.
 */
export interface JobKind<I = unknown, O = unknown> {
  readonly kind: string;
  /**
   * The events its `record`, `complete` and `failed` may emit besides JobUpdated (checked like an
   * operation's). Those of `failed` must also be declared by CancelJob, which runs it.
   */
  readonly events: readonly EventType[];
  /** Checked when the job is started; the parsed value is what `run` receives. */
  readonly input: z.ZodType<I>;
  /** A job of this kind found unfinished after a restart: run it again, or fail it visibly. */
  readonly onRestart: "resume" | "fail";
  /** Set when clients may start it directly with `StartJob` (who may). */
  readonly startable?: Permission;
  /** The work. Throw an AppError (UNAVAILABLE, TIMEOUT, …) to fail the job with it. */
  run(input: I, ctx: JobRunContext): Promise<O>;
  /**
   * What the job row keeps (and JobUpdated carries) of a success, when less than the output:
   * whoever started the job may read it back, so DM-only results stay in the kind's own rows.
   */
  storedOutput?(output: O): unknown;
  /**
   * What the job row, JobUpdated and `failed` get of a failure, when the error as thrown may say
   * too much (a provider's text echoing a prompt): whoever started the job reads its row.
   */
  publicError?(error: AppError): AppError;
  /** Adds the kind's own writes and events to the commit of a success (JobUpdated is always sent). */
  complete?(ctx: JobOutcomeContext, output: O): void | Promise<void>;
  /** Adds the kind's own writes and events to the commit of a failure or cancellation. */
  failed?(ctx: JobOutcomeContext, error: AppError): void;
}

/** Declares a job kind with its types checked (list it in src/domain/registry.ts). */
export function defineJobKind<I, O>(kind: JobKind<I, O>): JobKind<I, O> {
  return kind;
}

/** How a handler starts long-running work inside its Tx: `ctx.jobs.start(kind, input)`. */
export interface JobService {
  /** The job kind of this name (src/domain/registry.ts), if there is one. */
  kind(name: string): JobKind<unknown, unknown> | undefined;
  /**
   * Records a queued job in the handler's Tx (with a JobUpdated event); it runs once the Tx has
   * committed. Audience of its events and stream: by default the starting participant (and DMs).
   */
  start<I>(kind: string | JobKind<I, unknown>, input: I, opts?: { audience?: Audience }): Job;
  /**
   * Records the cancellation of an unfinished job in the handler's Tx (JobUpdated, the kind's
   * `failed`); once committed, its run is aborted and its stream ended. A late result is dropped.
   */
  cancel(job: JobRow): Job;
}

/** Who may see a job: DMs, the participant who started it, and its audience. */
export function canSeeJob(row: JobRow, actor: { participant_id: string; role: string }): boolean {
  if (actor.role === "dm" || row.started_by === actor.participant_id) return true;
  const a = row.audience;
  return a.kind === "all" || a.kind === "non_dm" || (a.kind === "some" && a.participants.includes(actor.participant_id));
}

/** canSeeJob of a non-DM as a condition for Table.page. */
export function visibleJobCondition(participantId: string): readonly [string, ...unknown[]] {
  return [
    "(started_by = ? OR json_extract(audience, '$.kind') IN ('all', 'non_dm') OR (json_extract(audience, '$.kind') = 'some' AND EXISTS (SELECT 1 FROM json_each(audience, '$.participants') WHERE value = ?)))",
    participantId,
    participantId,
  ];
}
