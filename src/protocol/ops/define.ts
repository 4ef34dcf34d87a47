import { z } from "zod";

/** Declares one operation: its input fields (besides `type`) and its result schema. */
export function op<I extends z.ZodRawShape, O extends z.ZodType>(input: I, output: O) {
  return { input, output };
}

export const Id = z.string().min(1).max(100);
export const Deleted = z.object({ deleted: z.literal(true) });
export const ExpectedVersion = { expected_version: z.number().int().min(1).optional() };
