import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import { JobSchema, JobStatusSchema } from "../jobs";
import { JsonValueField } from "../json";
import { Id, op } from "./define";

/**
 * Jobs: long-running work started by handlers (and, for kinds that allow it, by StartJob).
 * Its progress streams as `Stream` frames with `stream_id` = the job id; its end is a JobUpdated event.
 */
export const JOB_OPS = {
  /** Starts a job of a kind that may be started directly (most are started by their own operation). */
  StartJob: op({
    access: "play",
    write: true,
    events: ["JobUpdated"],
    input: { kind: z.string().min(1).max(100), input: JsonValueField.optional() },
    output: JobSchema,
  }),
  /**
   * The DM, or the participant who started it: aborts it; a late result is dropped. The kind's
   * failure events go out with the cancellation (a dialogue's DialogueFailed, a generation's
   * GenerationFailed): every job kind's `failed` events are declared here (the registry test checks it).
   */
  CancelJob: op({ access: "play", write: true, events: ["JobUpdated", "DialogueFailed", "GenerationFailed"], input: { job_id: Id }, output: JobSchema }),
  GetJob: op({ access: "read", input: { job_id: Id }, output: JobSchema }),
  /** The jobs this participant may see, newest first. */
  ListJobs: op({ access: "read", input: { status: JobStatusSchema.optional(), ...PageParams }, output: pageOf(JobSchema) }),
} as const;
