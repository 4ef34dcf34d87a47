import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import { PromptTemplateSchema } from "../world-entities";
import { op } from "./define";

const Key = z.string().min(1).max(100);

/** Prompt templates: the catalogue's defaults and the world's overrides (DM only). */
export const PROMPT_OPS = {
  ListPromptTemplates: op({ access: "dm", input: { ...PageParams }, output: pageOf(PromptTemplateSchema) }),
  GetPromptTemplate: op({ access: "dm", input: { key: Key }, output: PromptTemplateSchema }),
  SetPromptTemplate: op({
    access: "dm",
    write: true,
    events: ["PromptTemplateUpdated"],
    input: {
      key: Key,
      value: z.string().min(1).max(20_000),
      /** 0: expects no override yet. */
      expected_version: z.number().int().min(0).optional(),
    },
    output: PromptTemplateSchema,
  }),
  ResetPromptTemplate: op({ access: "dm", write: true, events: ["PromptTemplateUpdated"], input: { key: Key }, output: PromptTemplateSchema }),
} as const;
