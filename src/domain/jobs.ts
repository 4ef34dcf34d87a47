import { AppError, invalidField } from "../protocol";
import { authorize, isDm } from "../engine/authorize";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { canSeeJob, isFinished, jobs, toJob, visibleJobCondition, type JobRow } from "../engine/jobs";
import { conditions } from "../engine/store";

/** A job this actor may see, else NOT_FOUND (as for anything hidden). */
async function visibleJob(ctx: HandlerContext, jobId: string): Promise<JobRow> {
  const row = await jobs.get(ctx.db, ctx.session.sessionId, jobId);
  if (!row || !canSeeJob(row, ctx.actor)) throw new AppError("NOT_FOUND", `job '${jobId}' not found`, { id: jobId });
  return row;
}

/** Jobs: the generic operations on long-running work (kinds are declared by domain modules). */
export const jobHandlers = defineHandlers({
  StartJob: {
    async handle(ctx, p) {
      const kind = ctx.jobs.kind(p.kind);
      if (!kind?.startable) throw invalidField("kind", `no job kind '${p.kind}' may be started directly`);
      authorize(ctx.actor, kind.startable, undefined, `start a '${p.kind}' job`);
      return ctx.jobs.start(kind, p.input);
    },
  },

  CancelJob: {
    async handle(ctx, p) {
      const row = await visibleJob(ctx, p.job_id);
      if (!isDm(ctx.actor) && row.started_by !== ctx.actor.participant_id) {
        throw new AppError("FORBIDDEN", `${ctx.actor.role} may not cancel a job it did not start (requires a DM or the starter)`, { role: ctx.actor.role });
      }
      if (isFinished(row.status)) throw new AppError("CONFLICT", `job '${row.id}' already ended (${row.status})`, { current: toJob(row) });
      return ctx.jobs.cancel(row);
    },
  },

  GetJob: {
    handle: async (ctx, p) => toJob(await visibleJob(ctx, p.job_id)),
  },

  ListJobs: {
    async handle(ctx, p) {
      const where = conditions(!isDm(ctx.actor) && visibleJobCondition(ctx.actor.participant_id), p.status ? ["status = ?", p.status] : false);
      const page = await jobs.page(ctx.db, ctx.session.sessionId, { ...where, cursor: p.cursor, limit: p.limit, order: "desc" });
      return { items: page.items.map(toJob), next_cursor: page.next_cursor };
    },
  },
});
