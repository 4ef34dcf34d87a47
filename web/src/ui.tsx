import { useState } from "preact/hooks";
import type { ComponentChildren } from "preact";
import type { Connection, SessionStore } from "./session-store";

/** One form field: every input has a visible label (and thus an accessible name). */
export interface FieldSpec {
  key: string;
  label: string;
  type?: "text" | "textarea" | "number" | "checkbox" | "select";
  /** For selects: [value, label]; the value "" stands for null. */
  options?: [string, string][];
  /** Empty text is sent as null. */
  nullable?: boolean;
  required?: boolean;
}

type Values = Record<string, string | boolean>;

function toInput(spec: FieldSpec, v: unknown): string | boolean {
  if (spec.type === "checkbox") return !!v;
  // A select without a value starts on its first option (what the browser shows anyway).
  if (spec.type === "select" && (v === null || v === undefined)) return spec.options!.some(([o]) => o === "") ? "" : (spec.options![0]?.[0] ?? "");
  return v === null || v === undefined ? "" : String(v);
}

function fromInput(spec: FieldSpec, v: string | boolean): unknown {
  if (spec.type === "checkbox") return v;
  if (spec.type === "number") return Number(v);
  if ((spec.nullable || spec.type === "select") && v === "") return null;
  return v;
}

let formCount = 0;

/**
 * A form over some fields of an entity. It submits only the fields that changed (all of them when
 * creating), converted back from input strings. Re-key it by the entity's version to follow live
 * changes.
 */
export function EntityForm(props: {
  fields: FieldSpec[];
  initial?: Record<string, unknown>;
  submitLabel: string;
  onSubmit: (data: Record<string, unknown>) => unknown;
  children?: ComponentChildren;
  testId?: string;
}) {
  const [prefix] = useState(() => `f${++formCount}`);
  const start = () => Object.fromEntries(props.fields.map((f) => [f.key, toInput(f, props.initial?.[f.key])])) as Values;
  const [values, setValues] = useState<Values>(start);
  const [busy, setBusy] = useState(false);
  /** Inline feedback beside the button: it worked, or it did not (the message says why). */
  const [status, setStatus] = useState<"ok" | "failed" | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const data: Record<string, unknown> = {};
    for (const f of props.fields) {
      const initial = props.initial ? toInput(f, props.initial[f.key]) : undefined;
      if (!props.initial || values[f.key] !== initial) data[f.key] = fromInput(f, values[f.key]!);
    }
    if (props.initial && Object.keys(data).length === 0) return;
    setBusy(true);
    setStatus(null);
    try {
      const result = await props.onSubmit(data);
      const ok = result !== undefined && result !== false;
      setStatus(ok ? "ok" : "failed");
      setTimeout(() => setStatus(null), 4000);
      if (!props.initial && ok) setValues(start());
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} data-testid={props.testId}>
      {props.fields.map((f) => {
        const id = `${prefix}-${f.key}`;
        const value = values[f.key];
        const set = (v: string | boolean) => setValues({ ...values, [f.key]: v });
        if (f.type === "checkbox") {
          return (
            <label class="check" key={f.key} for={id}>
              <input id={id} type="checkbox" checked={!!value} onChange={(e) => set(e.currentTarget.checked)} /> {f.label}
            </label>
          );
        }
        return (
          <div class="field" key={f.key}>
            <label for={id}>{f.label}</label>
            {f.type === "textarea" ? (
              <textarea id={id} rows={3} value={value as string} required={f.required} onInput={(e) => set(e.currentTarget.value)} />
            ) : f.type === "select" ? (
              <select id={id} value={value as string} required={f.required} onChange={(e) => set(e.currentTarget.value)}>
                {f.options!.map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
            ) : f.type === "number" ? (
              <input id={id} type="number" value={value as string} required={f.required} onInput={(e) => set(e.currentTarget.value)} />
            ) : (
              <input id={id} type="text" value={value as string} required={f.required} onInput={(e) => set(e.currentTarget.value)} />
            )}
          </div>
        );
      })}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.children}
        <span class={`form-status ${status ?? ""}`} role="status">
          {status === "ok" ? "Done ✓" : status === "failed" ? "Not done — see the message" : ""}
        </span>
      </div>
    </form>
  );
}

const BADGE: Record<Connection, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

export function ConnectionBadge({ store }: { store: SessionStore }) {
  const state = store.connection.value;
  return (
    <span class={`badge badge-${state}`} role="status" aria-live="polite" data-testid="connection">
      {BADGE[state]}
    </span>
  );
}

export function Toasts({ store }: { store: SessionStore }) {
  return (
    <div class="toasts" role="alert" aria-live="assertive">
      {store.toasts.value.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" class="small" aria-label="Dismiss" onClick={() => store.dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={props.id ?? undefined} data-testid={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** A row that can be opened to edit it (native details/summary: keyboard works as is). */
export function Editable(props: { title: ComponentChildren; flash?: boolean; children: ComponentChildren; testId?: string; onOpen?: () => void }) {
  return (
    <details
      class={`editable${props.flash ? " flash" : ""}`}
      data-testid={props.testId}
      onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && props.onOpen?.()}
    >
      <summary>{props.title}</summary>
      <div class="editable-body">{props.children}</div>
    </details>
  );
}
