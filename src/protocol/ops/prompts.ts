import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import { PromptTemplateSchema } from "../world-entities";
import { op } from "./define";

const Key = z.string().min(1).max(100);

/** Prompt templates: the catalogue's defaults and the world's overrides (DM only). */
export const PROMPT_OPS = {
  ListPromptTemplates: op({ ...PageParams }, pageOf(PromptTemplateSchema)),
  GetPromptTemplate: op({ key: Key }, PromptTemplateSchema),
  SetPromptTemplate: op(
    {
      key: Key,
      value: z.string().min(1).max(20_000),
      /** 0: expects no override yet. */
      expected_version: z.number().int().min(0).optional(),
    },
    PromptTemplateSchema,
  ),
  ResetPromptTemplate: op({ key: Key }, PromptTemplateSchema),
} as const;
