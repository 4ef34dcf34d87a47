import { JobSchema } from "../jobs";

/** Events of jobs, sent to the job's audience (who started it, and DMs, unless the kind says otherwise). */
export const JOB_EVENTS = {
  /** A job was queued, started running, succeeded, failed or was cancelled: it carries the job as it now is. */
  JobUpdated: { job: JobSchema },
} as const;
