import { z } from "zod";

/**
 * An entity declared once (ARCHITECTURE.md, "Entities declared once"): its wire schema, and its
 * writable fields with their input rules and Create defaults. From these come the Create and
 * Update payloads (./ops/crud.ts), its Created/Updated/Deleted events (entityEvents), its table's
 * columns (src/engine/entity.ts) and what a Create stores for the fields it was not given.
 *
 * A writable field's schema is its input rule; `.default(v)` makes it optional at Create, which
 * then stores v. A field without a default is required at Create. Update takes any subset.
 * Defaults never reach the wire schemas (docs and AsyncAPI show the plain rule).
 */

/** A zod type whose parsed value fits the entity field it writes. */
type Writable<S extends z.ZodRawShape> = { [K in keyof S]?: z.ZodType<z.output<S[K]>> };

type StripDefault<T> = T extends z.ZodDefault<infer I extends z.ZodType> ? I : T;
type DefaultedKeys<F> = { [K in keyof F]: F[K] extends z.ZodDefault ? K : never }[keyof F];

export type FieldsShape<F extends z.ZodRawShape> = { [K in keyof F]: StripDefault<F[K]> };
export type CreateShape<F extends z.ZodRawShape> = {
  [K in keyof F]: F[K] extends z.ZodDefault<infer I extends z.ZodType> ? z.ZodOptional<I> : F[K];
};
export type UpdateShape<F extends z.ZodRawShape> = { [K in keyof F]: z.ZodOptional<StripDefault<F[K]>> };

export interface EntityDecl<
  N extends string = string,
  P extends string = string,
  K extends string = string,
  S extends z.ZodRawShape = z.ZodRawShape,
  F extends z.ZodRawShape = z.ZodRawShape,
> {
  /** PascalCase name: `Get<name>`, `<name>Created`… */
  name: N;
  /** Its plural, for `List<plural>`. */
  plural: P;
  /** snake_case key: events carry the entity under it, and operations its id under `<key>_id`. */
  key: K;
  idKey: `${K}_id`;
  /** What the wire carries. */
  schema: z.ZodObject<S>;
  /** The writable fields, without defaults: shared by Create and Update. */
  fields: z.ZodObject<FieldsShape<F>>;
  /** CreateX's `data`: fields with a default are optional, the others required; unknown keys refused. */
  create: z.ZodObject<CreateShape<F>, z.core.$strict>;
  /** UpdateX's `data`: any subset of the fields. */
  update: z.ZodObject<UpdateShape<F>, z.core.$strict>;
  /** The defaults of the fields a Create may leave out, fresh at each call. */
  defaults(): { [D in DefaultedKeys<F>]: z.output<F[D]> };
  /**
   * A Create's data with the defaults of the fields it left out, in the fields' order (so a new
   * entity's keys come in the order a stored one's do), then any other keys of `data`.
   */
  complete<D extends object>(data: D): Omit<D, DefaultedKeys<F>> & { [X in DefaultedKeys<F>]: z.output<F[X]> };
}

type Def = { type: string; innerType: z.ZodType; defaultValue: unknown };
const defOf = (t: z.ZodType) => (t as unknown as { _zod: { def: Def } })._zod.def;

export function defineEntity<N extends string, P extends string, K extends string, S extends z.ZodRawShape, F extends z.ZodRawShape & Writable<S>>(spec: {
  name: N;
  plural: P;
  key: K;
  schema: z.ZodObject<S>;
  fields: F;
}): EntityDecl<N, P, K, S, F> {
  const plain: Record<string, z.ZodType> = {};
  const create: Record<string, z.ZodType> = {};
  const update: Record<string, z.ZodType> = {};
  const defaulted: [string, z.ZodDefault][] = [];
  for (const [k, t] of Object.entries(spec.fields) as [string, z.ZodType][]) {
    if (!(k in spec.schema.shape)) throw new Error(`${spec.name}: writable field '${k}' is not a field of the entity`);
    const d = defOf(t);
    const inner = d.type === "default" ? d.innerType : t;
    if (d.type === "default") defaulted.push([k, t as z.ZodDefault]);
    plain[k] = inner;
    create[k] = d.type === "default" ? inner.optional() : inner;
    update[k] = inner.optional();
  }
  const defaults = () => Object.fromEntries(defaulted.map(([k, t]) => [k, defOf(t).defaultValue])) as ReturnType<EntityDecl<N, P, K, S, F>["defaults"]>;
  return {
    name: spec.name,
    plural: spec.plural,
    key: spec.key,
    idKey: `${spec.key}_id`,
    schema: spec.schema,
    fields: z.object(plain) as unknown as EntityDecl<N, P, K, S, F>["fields"],
    create: z.strictObject(create) as unknown as EntityDecl<N, P, K, S, F>["create"],
    update: z.strictObject(update) as unknown as EntityDecl<N, P, K, S, F>["update"],
    defaults,
    complete: (data) => {
      const out: Record<string, unknown> = {};
      const given = data as Record<string, unknown>;
      const fallback = defaults() as Record<string, unknown>;
      for (const k of Object.keys(plain)) {
        if (given[k] !== undefined) out[k] = given[k];
        else if (k in fallback) out[k] = fallback[k];
      }
      for (const [k, v] of Object.entries(given)) if (!(k in out) && v !== undefined) out[k] = v;
      return out as never;
    },
  };
}

/** An entity's `<Name>Created`, `<Name>Updated` (carrying it under its key) and `<Name>Deleted` (its id). */
export function entityEvents<N extends string, K extends string, S extends z.ZodRawShape>(e: Pick<EntityDecl<N, string, K, S>, "name" | "key" | "schema">) {
  type WithEntity = { [X in K]: z.ZodObject<S> };
  return {
    [`${e.name}Created`]: { [e.key]: e.schema },
    [`${e.name}Updated`]: { [e.key]: e.schema },
    [`${e.name}Deleted`]: { [`${e.key}_id`]: z.string() },
  } as { [X in `${N}Created` | `${N}Updated`]: WithEntity } & { [X in `${N}Deleted`]: { [Y in `${K}_id`]: z.ZodString } };
}
