import { z } from "zod";

/**
 * Limits on free-form JSON fields (item properties, story-event details): checked at validation, so
 * nothing stored can later be too deep to redact, serialize or clone. Fixed by the protocol (clients
 * can rely on them); the frame limits bound everything else.
 */
export const JSON_FIELD_LIMITS = { maxDepth: 8, maxBytes: 16 * 1024, maxKeyLength: 100 } as const;

/**
 * Why `value` breaks the limits, or null. Iterative (a hostile value cannot exhaust the stack) and
 * stops as soon as a limit is passed. Size counts UTF-16 units of keys and strings plus a little per
 * value: an estimate of the JSON size that never undercounts by much.
 */
export function jsonFieldProblem(value: unknown, limits = JSON_FIELD_LIMITS): string | null {
  const stack: [unknown, number][] = [[value, 1]];
  let size = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    size += 4;
    if (typeof v === "string") size += v.length;
    else if (v !== null && typeof v === "object") {
      if (depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
      if (Array.isArray(v)) {
        for (const item of v) stack.push([item, depth + 1]);
      } else {
        for (const [k, item] of Object.entries(v)) {
          if (k.length > limits.maxKeyLength) return `has a key longer than ${limits.maxKeyLength} characters`;
          size += k.length;
          stack.push([item, depth + 1]);
        }
      }
    } else if (!(typeof v === "number" || typeof v === "boolean" || v === null)) {
      return "holds a value that is not JSON";
    }
    if (size > limits.maxBytes) return `larger than ${limits.maxBytes} bytes`;
  }
  return null;
}

/** A free-form JSON object field, bounded in depth and size (see JSON_FIELD_LIMITS). */
export const JsonObjectField = z.record(z.string(), z.unknown()).superRefine(checkJsonField);

function checkJsonField(value: unknown, ctx: z.RefinementCtx): void {
  const problem = jsonFieldProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `free-form JSON ${problem}` });
}

/** Any free-form JSON value (a job's input), bounded the same way. */
export const JsonValueField = z.unknown().superRefine(checkJsonField);
