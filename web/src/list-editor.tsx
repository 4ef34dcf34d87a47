import type { ComponentChildren } from "preact";
import type { SessionStore } from "./session-store";
import { Editable, EntityForm, Section, type FieldSpec } from "./ui";
import { regionLabel } from "./world-views";

/**
 * The DM's editor for one kind of entity: a row per entity that opens into its form (with Delete
 * and extras), and a form for a new one.
 */
export const opts = (pairs: [string, string][], none?: string): [string, string][] => (none ? [["", none], ...pairs] : pairs);

export function regionOptions(store: SessionStore, none?: string) {
  return opts(
    Object.values(store.regions.value).map((r) => [r.id, regionLabel(store, r)]),
    none,
  );
}
export function locationOptions(store: SessionStore, none?: string) {
  return opts(
    Object.values(store.locations.value).map((l) => [l.id, l.name]),
    none,
  );
}

export function ListEditor<T extends { id: string; version: number }>(props: {
  store: SessionStore;
  title: string;
  id: string;
  items: T[];
  label: (t: T) => ComponentChildren;
  fields: FieldSpec[];
  createFields?: FieldSpec[];
  create: (data: Record<string, unknown>) => Promise<unknown>;
  update: (t: T, data: Record<string, unknown>) => Promise<unknown>;
  remove: (t: T) => Promise<unknown>;
  extra?: (t: T) => ComponentChildren;
  onOpen?: (t: T) => void;
}) {
  return (
    <Section title={props.title} id={props.id}>
      <ul class="list">
        {props.items.map((t) => (
          <li key={t.id}>
            <Editable title={props.label(t)} flash={props.store.rolledBack.value.has(t.id)} testId={`${props.id}-${t.id}`} onOpen={() => props.onOpen?.(t)}>
              {/* Re-keyed by version (live changes) and by a rollback (the refused input goes). */}
              <EntityForm
                key={`${t.id}-${t.version}-${props.store.rolledBack.value.has(t.id)}`}
                fields={props.fields}
                initial={t as unknown as Record<string, unknown>}
                submitLabel="Save"
                onSubmit={(data) => props.update(t, data)}
              >
                <button type="button" class="danger" onClick={() => confirm("Delete it?") && void props.remove(t)}>
                  Delete
                </button>
              </EntityForm>
              {props.extra?.(t)}
            </Editable>
          </li>
        ))}
        {props.items.length === 0 && <li class="muted">None yet.</li>}
      </ul>
      <h3>New</h3>
      <EntityForm fields={props.createFields ?? props.fields} submitLabel="Create" onSubmit={props.create} testId={`${props.id}-new`} />
    </Section>
  );
}

export const sorted = <T extends { name: string }>(items: T[]) => [...items].sort((a, b) => a.name.localeCompare(b.name));
