import type { PlayLogEntry } from "../protocol";
import { isDm } from "../engine/authorize";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { newId, type WriteScope } from "../engine/store";
import { ALL, DMS, NON_DMS, only, type Audience } from "../engine/tx";

/**
 * The table's play log: one entry per thing that happened at the table, written in the same Tx
 * as the change (a D1 row) and sent as PlayLogged to the same audience, so the live log and the one
 * read back after a reload (ListPlayLog) are the same entries. An entry players may see only in
 * part is written twice under one id: whole for DMs, redacted for everyone else.
 */

/** Who reads an entry: the audiences of events (a `some` entry: those participants and DMs). */
export const LOG_ALL: Audience = ALL;
export const LOG_DMS: Audience = DMS;
export const logTo = only;

export type LogInput = Pick<PlayLogEntry, "kind" | "text"> & Partial<Omit<PlayLogEntry, "kind" | "text" | "id" | "created_at" | "audience">>;

type LogScope = WriteScope & { now: number; actor?: { participant_id: string } };

const SYSTEM_PARTICIPANT = "system";

function entryOf(s: LogScope, id: string, input: LogInput, audience: Audience): PlayLogEntry {
  const actor = s.actor?.participant_id;
  return {
    id,
    created_at: s.now,
    kind: input.kind,
    text: input.text,
    audience: audience.kind === "some" ? "participants" : audience.kind === "dm" ? "dm" : "all",
    participant_id: input.participant_id !== undefined ? input.participant_id : actor && actor !== SYSTEM_PARTICIPANT ? actor : null,
    character_id: input.character_id ?? null,
    character_name: input.character_name ?? null,
    roll: input.roll ?? null,
    modifier: input.modifier ?? null,
    dialogue: input.dialogue ?? null,
    challenge: input.challenge ?? null,
    region: input.region ?? null,
    scene_id: input.scene_id ?? null,
    story_event_id: input.story_event_id ?? null,
  };
}

function write(s: LogScope, entry: PlayLogEntry, audience: Audience): void {
  const participants = audience.kind === "some" ? audience.participants : [];
  s.tx
    .write(
      s.db
        .prepare("INSERT INTO play_log (id, session_id, created_at, audience, participant_ids, entry) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(entry.id, s.session.sessionId, entry.created_at, audience.kind, JSON.stringify(participants), JSON.stringify(entry)),
    )
    .emit({ type: "PlayLogged", entry }, audience);
}

/** Logs one entry for one audience (DMs read every entry but the players' copies). Returns its id. */
export function logPlay(s: LogScope, input: LogInput, audience: Audience = ALL): string {
  const id = newId(s.now);
  write(s, entryOf(s, id, input, audience), audience);
  return id;
}

/**
 * Logs one entry DMs see whole and everyone else as `forPlayers` (null: players see nothing of it).
 * Both copies share the id.
 */
export function logPlaySplit(s: LogScope, forDms: LogInput, forPlayers: LogInput | null): string {
  const id = newId(s.now);
  write(s, entryOf(s, id, forDms, DMS), DMS);
  if (forPlayers) write(s, entryOf(s, id, forPlayers, ALL), NON_DMS);
  return id;
}

const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;

export const playLogHandlers = defineHandlers({
  ListPlayLog: {
    async handle(ctx: HandlerContext, p) {
      const limit = p.limit ?? DEFAULT_PAGE;
      const dm = isDm(ctx.actor);
      const who = dm
        ? "audience != 'non_dm'"
        : "(audience IN ('all', 'non_dm') OR (audience = 'some' AND EXISTS (SELECT 1 FROM json_each(play_log.participant_ids) WHERE json_each.value = ?)))";
      const params: unknown[] = [ctx.session.sessionId];
      if (!dm) params.push(ctx.actor.participant_id);
      let sql = `SELECT entry FROM play_log WHERE session_id = ? AND ${who}`;
      if (p.before) {
        sql += " AND id < ?";
        params.push(p.before);
      }
      sql += " ORDER BY id DESC, row_id DESC LIMIT ?";
      params.push(Math.min(limit, MAX_PAGE) + 1);
      const { results } = await ctx.db
        .prepare(sql)
        .bind(...params)
        .all<{ entry: string }>();
      const entries = results.map((r) => JSON.parse(r.entry) as PlayLogEntry);
      const more = entries.length > limit;
      const page = more ? entries.slice(0, limit) : entries;
      return { entries: page, next_before: more ? page[page.length - 1]!.id : null };
    },
  },
});
