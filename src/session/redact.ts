import { DM_ONLY_KEYS, type Role } from "../protocol";
import type { Audience } from "../engine/tx";

/** Removes DM-only keys at any depth. Returns the same value when nothing had to go. */
export function redact<T>(value: T): T {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = redact(v);
      if (r !== v) changed = true;
      return r;
    });
    return (changed ? out : value) as T;
  }
  if (value && typeof value === "object") {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      if (DM_ONLY_KEYS.has(k)) {
        out ??= { ...(value as Record<string, unknown>) };
        delete out[k];
        continue;
      }
      const r = redact(v);
      if (r !== v) {
        out ??= { ...(value as Record<string, unknown>) };
        out[k] = r;
      }
    }
    return (out ?? value) as T;
  }
  return value;
}

/** What a viewer of this role may receive of a value. */
export function viewFor<T>(role: Role, value: T): T {
  return role === "dm" ? value : redact(value);
}

export function inAudience(audience: Audience, participantId: string, role: Role): boolean {
  switch (audience.kind) {
    case "all":
      return true;
    case "dm":
      return role === "dm";
    case "non_dm":
      return role !== "dm";
    case "some":
      return role === "dm" || audience.participants.includes(participantId);
  }
}
