import { deleteEntity, insertEntity, requireVisible, updateEntity } from "./changes";
import { defineHandlers } from "../engine/context";
import { GOAL, goals } from "./world-tables";

/** Goals: DM-written, seen by everyone (GoalCreated/Updated/Deleted to everyone). */
export const goalHandlers = defineHandlers({
  ListGoals: {
    handle: (ctx, p) => goals.page(ctx.db, ctx.session.sessionId, { cursor: p.cursor, limit: p.limit }),
  },

  GetGoal: {
    handle: (ctx, p) => requireVisible(ctx, GOAL, p.goal_id),
  },

  CreateGoal: {
    async handle(ctx, p) {
      return insertEntity(ctx, GOAL, { world_id: ctx.session.worldId, name: p.data.name, description: p.data.description ?? "" });
    },
  },

  UpdateGoal: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, GOAL, p.goal_id);
      return updateEntity(ctx, GOAL, before, p.data, p.expected_version);
    },
  },

  DeleteGoal: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, GOAL, p.goal_id);
      return deleteEntity(ctx, GOAL, before, p.expected_version);
    },
  },
});
