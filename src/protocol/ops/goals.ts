import { GoalEntity } from "../world-entities";
import { crudOps } from "./crud";

/** The world's goals (targets of NPC wants). */
export const GOAL_OPS = crudOps(GoalEntity);
