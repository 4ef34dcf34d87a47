import type { World } from "../protocol";
import { Table } from "./store";

/** The session's world (its operations come with the world-building issue). */
export const worlds = new Table<World>("worlds", ["session_id", "name", "description", "rule_system"], { json: ["rule_system"] });
