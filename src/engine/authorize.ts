import { AppError, type Access, type Role } from "../protocol";

/** Who is asking: taken from the verified token, stored in the socket attachment. */
export interface Actor {
  participant_id: string;
  role: Role;
}

/** A resource whose ownership matters to a permission (a character, or an item's character). */
export interface Owned {
  owner_participant_id: string | null;
  kind?: "npc" | "pc";
}

/**
 * The one authorization policy (DESIGN.md §2), for WebSocket and HTTP alike, keyed by the access
 * names operations declare in src/protocol/ops/.
 * - `read`: every role (hidden things are filtered by the handlers' queries and by redaction);
 * - `play`: DMs and players, not spectators (speak, roll, create one's own PC);
 * - `dm`: DMs only;
 * - `own`: DMs, or the player who owns the resource (its own PC and that PC's items).
 */
export const PERMISSIONS: { [K in Access]: (a: Actor, r?: Owned) => boolean } = {
  read: () => true,
  play: (a: Actor) => a.role === "dm" || a.role === "player",
  dm: (a: Actor) => a.role === "dm",
  own: (a: Actor, r?: Owned) => a.role === "dm" || (a.role === "player" && !!r && r.kind !== "npc" && r.owner_participant_id === a.participant_id),
};
export type Permission = Access;

export function can(actor: Actor, permission: Permission, resource?: Owned): boolean {
  return PERMISSIONS[permission](actor, resource);
}

export function authorize(actor: Actor, permission: Permission, resource?: Owned, what?: string): void {
  if (!can(actor, permission, resource)) {
    const needs = { read: "any role", play: "a DM or player", dm: "a DM", own: "a DM or the owner" }[permission];
    throw new AppError("FORBIDDEN", `${actor.role} may not ${what ?? "perform this operation"} (requires ${needs})`, {
      role: actor.role,
      permission,
    });
  }
}

export const isDm = (a: Actor) => a.role === "dm";
