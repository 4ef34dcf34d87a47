import { z } from "zod";
import { RuleSystemSchema, WorldSchema } from "../entities";
import { WorldDocumentSchema } from "../world-entities";
import { ExpectedVersion, op } from "./define";

export const WorldFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(20_000),
  rule_system: RuleSystemSchema,
});

const Counts = z.record(z.string(), z.number().int());

/** The world itself: read, edit, export as one document, import such a document. */
export const WORLD_OPS = {
  GetWorld: op({ access: "read", input: {}, output: WorldSchema }),
  UpdateWorld: op({
    access: "dm",
    write: true,
    events: ["WorldUpdated"],
    input: { data: WorldFieldsSchema.partial().strict(), ...ExpectedVersion },
    output: WorldSchema,
  }),
  ExportWorld: op({ access: "dm", input: {}, output: WorldDocumentSchema }),
  /** A whole world document in one frame: the larger frame cap. Clients reload on WorldImported. */
  ImportWorld: op({
    access: "dm",
    write: true,
    frame: "batch",
    events: ["WorldImported"],
    input: {
      document: WorldDocumentSchema,
      /** `fill`: only into a world with no content yet; `replace`: the content is deleted first. */
      mode: z.enum(["fill", "replace"]).optional(),
    },
    output: z.object({ world: WorldSchema, counts: Counts }),
  }),
} as const;
