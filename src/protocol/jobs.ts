import { z } from "zod";
import { EntityBase } from "./entities";
import { ErrorBodySchema } from "./errors";

/**
 * Long-running work (an LLM answer, an image generation): queued by a handler in the same commit
 * as its events, run outside the session's write queue, finished by a committed write of its own.
 */
export const JobStatusSchema = z.enum(["queued", "running", "succeeded", "failed", "cancelled"]);
export type JobStatus = z.infer<typeof JobStatusSchema>;
export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];

export const JobSchema = z.object({
  ...EntityBase,
  /** What kind of work (registered by a domain module, e.g. "dialogue.reply"). */
  kind: z.string(),
  status: JobStatusSchema,
  /** The participant whose request started it (null: the session itself). */
  started_by: z.string().nullable(),
  /** Runs so far (a run interrupted by a restart may be resumed, see docs/engine.md). */
  attempts: z.number().int(),
  /** The kind's result once succeeded. */
  output: z.unknown(),
  /** Why it failed or was cancelled. */
  error: ErrorBodySchema.nullable(),
});
export type Job = z.infer<typeof JobSchema>;
