import { PageParams, pageOf } from "../entities";
import { GoalFieldsSchema, GoalSchema } from "../world-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** The world's goals (targets of NPC wants). */
export const GOAL_OPS = {
  ListGoals: op({ access: "read", input: { ...PageParams }, output: pageOf(GoalSchema) }),
  GetGoal: op({ access: "read", input: { goal_id: Id }, output: GoalSchema }),
  CreateGoal: op({
    access: "dm",
    write: true,
    events: ["GoalCreated"],
    input: { data: GoalFieldsSchema.partial().required({ name: true }).strict() },
    output: GoalSchema,
  }),
  UpdateGoal: op({
    access: "dm",
    write: true,
    events: ["GoalUpdated"],
    input: { goal_id: Id, data: GoalFieldsSchema.partial().strict(), ...ExpectedVersion },
    output: GoalSchema,
  }),
  DeleteGoal: op({ access: "dm", write: true, events: ["GoalDeleted"], input: { goal_id: Id, ...ExpectedVersion }, output: Deleted }),
} as const;
