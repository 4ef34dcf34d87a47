import type { z } from "zod";

/** Fields every stored entity carries outside its own columns' list (protocol EntityBase). */
export const VERSIONED_KEYS = ["id", "version", "created_at", "updated_at"] as const;

/** How a column holds its field: as is, as JSON text, or as a 0/1 integer. */
export type ColumnKind = "plain" | "json" | "bool";

/** Wrappers that do not change how a value is stored (`.optional()`, `.nullable()`, `.default()`…). */
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);
/** Types stored as JSON text: anything that is not a scalar. */
const JSON_TYPES = new Set(["object", "array", "record", "tuple", "unknown", "any", "map", "set", "intersection"]);

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[] };
const defOf = (t: z.ZodType) => (t as unknown as { _zod: { def: Def } })._zod.def;

/** How a field of this zod type is stored (see Table): JSON for objects and lists, 0/1 for booleans. */
export function columnKind(t: z.ZodType): ColumnKind {
  const d = defOf(t);
  if (WRAPPERS.has(d.type) && d.innerType) return columnKind(d.innerType);
  if (d.type === "pipe" && d.in) return columnKind(d.in);
  if (d.type === "union" && d.options) {
    const kinds = d.options.map(columnKind);
    return kinds.includes("json") ? "json" : kinds.every((k) => k === "bool") ? "bool" : "plain";
  }
  if (JSON_TYPES.has(d.type)) return "json";
  return d.type === "boolean" ? "bool" : "plain";
}

/**
 * The columns of an entity's table, read off its zod object schema: every field besides
 * id/version/created_at/updated_at is a column, of the kind its type says (columnKind).
 */
export function columnsOf(schema: z.ZodObject): { fields: string[]; json: string[]; bool: string[] } {
  const fields = Object.keys(schema.shape).filter((k) => !(VERSIONED_KEYS as readonly string[]).includes(k));
  const kinds = new Map(fields.map((f) => [f, columnKind(schema.shape[f] as z.ZodType)]));
  return { fields, json: fields.filter((f) => kinds.get(f) === "json"), bool: fields.filter((f) => kinds.get(f) === "bool") };
}
