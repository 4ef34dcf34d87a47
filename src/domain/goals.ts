import { GoalEntity } from "../protocol";
import { defineHandlers } from "../engine/context";
import { crudHandlers } from "./crud";
import { GOAL } from "./world-tables";

/** Goals: DM-written, seen by everyone (GoalCreated/Updated/Deleted to everyone). */
export const goalHandlers = defineHandlers(crudHandlers(GoalEntity, GOAL));
