import type { z } from "zod";
import { PageParams, pageOf } from "../entities";
import type { CreateShape, EntityDecl, UpdateShape } from "../entity";
import type { EventType } from "../events";
import { Deleted, ExpectedVersion, Id, op, type Access, type OperationDef } from "./define";

type IdInput<K extends string> = { [X in `${K}_id`]: typeof Id };
type Strict<T extends z.ZodRawShape> = z.ZodObject<T, z.core.$strict>;

/** The five operations of a plain entity, as crudOps declares them. */
export type CrudOps<
  N extends string,
  P extends string,
  K extends string,
  S extends z.ZodRawShape,
  F extends z.ZodRawShape,
  L extends z.ZodRawShape = Record<never, never>,
> = {
  [X in `List${P}`]: OperationDef<L & typeof PageParams, ReturnType<typeof pageOf<z.ZodObject<S>>>>;
} & { [X in `Get${N}`]: OperationDef<IdInput<K>, z.ZodObject<S>> } & {
  [X in `Create${N}`]: OperationDef<{ data: Strict<CreateShape<F>> }, z.ZodObject<S>>;
} & {
  [X in `Update${N}`]: OperationDef<IdInput<K> & { data: Strict<UpdateShape<F>> } & typeof ExpectedVersion, z.ZodObject<S>>;
} & { [X in `Delete${N}`]: OperationDef<IdInput<K> & typeof ExpectedVersion, typeof Deleted> };

/**
 * List/Get/Create/Update/Delete of an entity (see ../entity.ts): reads by `read` (everyone by
 * default), writes by `write` (DMs by default), each write emitting its `<Name>Created/Updated/
 * Deleted`; `listBy`: the List's filters, before its paging fields. An area with more rules
 * overrides one of them after the spread (same key, same place).
 */
export function crudOps<
  N extends string,
  P extends string,
  K extends string,
  S extends z.ZodRawShape,
  F extends z.ZodRawShape,
  L extends z.ZodRawShape = Record<never, never>,
>(e: EntityDecl<N, P, K, S, F>, opts: { read?: Access; write?: Access; listBy?: L } = {}): CrudOps<N, P, K, S, F, L> {
  const read = opts.read ?? "read";
  const write = opts.write ?? "dm";
  const id = { [e.idKey]: Id } as IdInput<K>;
  const event = (suffix: string) => [`${e.name}${suffix}` as EventType];
  return {
    [`List${e.plural}`]: op({ access: read, input: { ...opts.listBy, ...PageParams }, output: pageOf(e.schema) }),
    [`Get${e.name}`]: op({ access: read, input: id, output: e.schema }),
    [`Create${e.name}`]: op({ access: write, write: true, events: event("Created"), input: { data: e.create }, output: e.schema }),
    [`Update${e.name}`]: op({
      access: write,
      write: true,
      events: event("Updated"),
      input: { ...id, data: e.update, ...ExpectedVersion },
      output: e.schema,
    }),
    [`Delete${e.name}`]: op({ access: write, write: true, events: event("Deleted"), input: { ...id, ...ExpectedVersion }, output: Deleted }),
  } as CrudOps<N, P, K, S, F, L>;
}
