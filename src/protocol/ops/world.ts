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
  GetWorld: op({}, WorldSchema),
  UpdateWorld: op({ data: WorldFieldsSchema.partial().strict(), ...ExpectedVersion }, WorldSchema),
  ExportWorld: op({}, WorldDocumentSchema),
  ImportWorld: op(
    {
      document: WorldDocumentSchema,
      /** `fill`: only into a world with no content yet; `replace`: the content is deleted first. */
      mode: z.enum(["fill", "replace"]).optional(),
    },
    z.object({ world: WorldSchema, counts: Counts }),
  ),
} as const;
