import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import { JobSchema, JobStatusSchema } from "../jobs";
import { Id, op } from "./define";

/**
 * Jobs: long-running work started by handlers (and, for kinds that allow it, by StartJob).
 * Its progress streams as `Stream` frames with `stream_id` = the job id; its end is a JobUpdated event.
 */
export const JOB_OPS = {
  /** Starts a job of a kind that may be started directly (most are started by their own operation). */
  StartJob: op({ kind: z.string().min(1).max(100), input: z.unknown().optional() }, JobSchema),
  /** The DM, or the participant who started it: aborts it; a late result is dropped. */
  CancelJob: op({ job_id: Id }, JobSchema),
  GetJob: op({ job_id: Id }, JobSchema),
  /** The jobs this participant may see, newest first. */
  ListJobs: op({ status: JobStatusSchema.optional(), ...PageParams }, pageOf(JobSchema)),
} as const;
