import { PageParams, pageOf } from "../entities";
import { GoalFieldsSchema, GoalSchema } from "../world-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** The world's goals (targets of NPC wants). */
export const GOAL_OPS = {
  ListGoals: op({ ...PageParams }, pageOf(GoalSchema)),
  GetGoal: op({ goal_id: Id }, GoalSchema),
  CreateGoal: op({ data: GoalFieldsSchema.partial().required({ name: true }).strict() }, GoalSchema),
  UpdateGoal: op({ goal_id: Id, data: GoalFieldsSchema.partial().strict(), ...ExpectedVersion }, GoalSchema),
  DeleteGoal: op({ goal_id: Id, ...ExpectedVersion }, Deleted),
} as const;
