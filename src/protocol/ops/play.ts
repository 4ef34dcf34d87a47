import { z } from "zod";
import { DmQueueSchema, MyWaitsSchema, PlayLogEntrySchema } from "../play-entities";
import { Id, op } from "./define";

/** The play loop's reads: the table's history, and what waits for whom. */
export const PLAY_OPS = {
  /**
   * The session's play log as the caller may see it, newest first: `before` (an entry id) pages
   * back in time; `next_before` is null at the start of the session.
   */
  ListPlayLog: op({
    access: "read",
    input: { before: Id.optional(), limit: z.number().int().min(1).max(200).optional() },
    output: z.object({ entries: z.array(PlayLogEntrySchema), next_before: z.string().nullable() }),
  }),
  /** DM: everything waiting for a DM (dialogue drafts, pending stagings, rolls to resolve). */
  ListDmQueue: op({ access: "dm", input: {}, output: DmQueueSchema }),
  /** What the caller's characters wait for (a DM's answer) or must do (roll). */
  ListMyWaits: op({ access: "read", input: {}, output: MyWaitsSchema }),
} as const;
