import { AppError, type Participant, type Role } from "../protocol";
import { Table } from "./store";

export interface ParticipantRow {
  id: string;
  version: number;
  created_at: number;
  updated_at: number;
  world_id: string;
  name: string;
  role: Role;
  kicked_at: number | null;
}

export const participants = new Table<ParticipantRow>("participants", ["world_id", "name", "role", "kicked_at"]);

/** A participant as the protocol shows it, with its live presence. */
export function toParticipant(row: ParticipantRow, session: { onlineParticipantIds(): Set<string> }, online = session.onlineParticipantIds()): Participant {
  const { world_id: _w, kicked_at, ...rest } = row;
  return { ...rest, online: online.has(row.id), kicked: kicked_at !== null };
}

/** A participant of this session (from the object's roster), or NOT_FOUND. */
export function requireParticipant(session: { participant(id: string): ParticipantRow | undefined }, id: string): ParticipantRow {
  const row = session.participant(id);
  if (!row) throw new AppError("NOT_FOUND", `participant '${id}' not found`, { id });
  return row;
}

/** How many participants the snapshot and SessionJoined carry; ListParticipants pages the rest. */
export const ROSTER_PAGE = 200;
