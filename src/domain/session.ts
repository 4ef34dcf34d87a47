import { AppError, CLOSE_CODES, DEFAULT_SESSION_SETTINGS, SessionSettingsSchema, invalidField } from "../protocol";
import { ALL, DMS, type Tx } from "../engine/tx";
import { characters } from "./characters";
import { activeScene } from "./scenes";
import { bump } from "../engine/store";
import { ROSTER_PAGE, participants, requireParticipant, toParticipant, type ParticipantRow } from "../engine/participants";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { worlds } from "./world";
import { stagings } from "./gameplay-tables";
import { checkStatRule } from "./stat-rule";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh invite code: 10 characters of an unambiguous alphabet (about 2^49 codes). */
export function newInviteCode(): string {
  const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/**
 * Replaces the session's invite code in the caller's Tx: once committed the old code admits no
 * one (POST /auth/join reads the code from D1). Only DMs learn the new one.
 */
function rotateInviteCode(ctx: HandlerContext, tx: Tx, reason: "rotated" | "kick"): string {
  const invite_code = newInviteCode();
  tx.write(
    ctx.db.prepare("UPDATE sessions SET invite_code = ?, version = version + 1, updated_at = ? WHERE id = ?").bind(invite_code, ctx.now, ctx.session.sessionId),
  ).emit({ type: "InviteCodeRotated", invite_code, reason }, DMS);
  return invite_code;
}

/** Snapshot cap: larger worlds page the rest with ListCharacters. */
const SNAPSHOT_CHARACTERS = 500;

export const sessionHandlers = defineHandlers({
  Ping: {
    async handle(_ctx, p) {
      // delay_ms simulates server work: lets clients measure and test their timeouts.
      if (p.delay_ms) await sleep(p.delay_ms);
      return { pong: true as const, server_time: Date.now() };
    },
  },

  GetSessionSnapshot: {
    async handle(ctx) {
      // seq is read first: anything committed meanwhile is in the data AND arrives as an event
      // after seq; entities carry versions, so applying it again is harmless. Nothing is missed.
      const seq = ctx.session.seq;
      const s = ctx.session;
      const [world, chars, scene] = await Promise.all([
        worlds.require(ctx, s.worldId, "world"),
        characters.page(ctx.db, s.sessionId, { where: ctx.actor.role === "dm" ? undefined : "hidden = 0", limit: SNAPSHOT_CHARACTERS }),
        activeScene(ctx),
      ]);
      const online = s.onlineParticipantIds();
      return {
        session: { id: s.sessionId, world_id: s.worldId, settings: s.settings, seq },
        world,
        you: toParticipant(requireParticipant(s, ctx.actor.participant_id), s, online),
        participants: s.roster(ROSTER_PAGE).map((r) => toParticipant(r, s, online)),
        characters: chars.items,
        current_scene: scene,
        ...(ctx.actor.role === "dm" && { pending_stagings: await stagings.rows(ctx, stagings.where({ status: "pending" })) }),
      };
    },
  },

  ListParticipants: {
    async handle(ctx, p) {
      const page = await participants.page(ctx.db, ctx.session.sessionId, { cursor: p.cursor, limit: p.limit });
      const online = ctx.session.onlineParticipantIds();
      return { items: page.items.map((r) => toParticipant(r, ctx.session, online)), next_cursor: page.next_cursor };
    },
  },

  KickParticipant: {
    async handle(ctx, p) {
      if (p.participant_id === ctx.actor.participant_id) {
        throw invalidField("participant_id", "a DM cannot kick itself");
      }
      // The roster is updated on commit; a kick earlier in the same batch is a pending change.
      const target = (await ctx.tx.pending.get(participants.name, p.participant_id, async () => requireParticipant(ctx.session, p.participant_id)))!;
      if (target.kicked_at !== null) throw new AppError("CONFLICT", `participant '${target.id}' was already kicked`);
      const after = participants.save(ctx, bump(target, { kicked_at: ctx.now }, ctx.now));
      ctx.tx.emit({ type: "ParticipantKicked", participant_id: target.id }, ALL).onCommit(() => {
        ctx.session.rememberParticipant(after);
        ctx.session.closeParticipant(target.id, CLOSE_CODES.KICKED, new AppError("FORBIDDEN", "kicked by the DM", { reason: "kicked" }));
      });
      // A kick is a ban: the kicked participant knows the code, so the code changes with the kick.
      const invite_code = rotateInviteCode(ctx, ctx.tx, "kick");
      return { participant_id: target.id, kicked: true as const, invite_code };
    },
  },

  RotateInviteCode: {
    async handle(ctx) {
      return { invite_code: rotateInviteCode(ctx, ctx.tx, "rotated") };
    },
  },

  UpdateSessionSettings: {
    async handle(ctx, p) {
      checkStatRule(p.data.player_stat_edits);
      const settings = { ...ctx.session.settings, ...p.data };
      ctx.tx
        .write(
          ctx.db
            .prepare("UPDATE sessions SET settings = ?, version = version + 1, updated_at = ? WHERE id = ?")
            .bind(JSON.stringify(settings), ctx.now, ctx.session.sessionId),
        )
        .emit({ type: "SessionSettingsUpdated", settings }, ALL)
        .onCommit(() => {
          ctx.session.settings = settings;
        });
      return settings;
    },
  },
});

/**
 * A new session: its row, its world and its first DM, in one batch (POST /auth/sessions).
 * The session object runs it before the session exists, hence outside the write pipeline.
 */
export async function createSessionRows(db: D1Database, input: { session_id: string; world_name: string; dm_name: string }, now: number) {
  const world_id = crypto.randomUUID();
  const invite_code = newInviteCode();
  const dm: ParticipantRow = {
    id: crypto.randomUUID(),
    version: 1,
    created_at: now,
    updated_at: now,
    world_id,
    name: input.dm_name,
    role: "dm",
    kicked_at: null,
  };
  await db.batch([
    db
      .prepare("INSERT INTO sessions (id, world_id, invite_code, settings, seq, version, created_at, updated_at) VALUES (?,?,?,?,0,1,?,?)")
      .bind(input.session_id, world_id, invite_code, JSON.stringify(DEFAULT_SESSION_SETTINGS), now, now),
    db
      .prepare("INSERT INTO worlds (id, session_id, name, description, version, created_at, updated_at) VALUES (?,?,?,'',1,?,?)")
      .bind(world_id, input.session_id, input.world_name, now, now),
    participants.insert(db, { session_id: input.session_id, world_id }, dm),
  ]);
  return { world_id, invite_code, participant_id: dm.id };
}

/** What a session object loads on wake: its world, settings, last seq and roster (creation order). */
export async function loadSessionState(db: D1Database, sessionId: string) {
  const row = await db
    .prepare("SELECT world_id, settings, seq FROM sessions WHERE id = ?")
    .bind(sessionId)
    .first<{ world_id: string; settings: string; seq: number }>();
  if (!row) throw new AppError("NOT_FOUND", `session '${sessionId}' not found`);
  const { results } = await db
    .prepare("SELECT * FROM participants WHERE session_id = ? ORDER BY created_at, id")
    .bind(sessionId)
    .all<Record<string, unknown>>();
  const settings = SessionSettingsSchema.parse({ ...DEFAULT_SESSION_SETTINGS, ...JSON.parse(row.settings) });
  const roster = new Map(results.map((r) => participants.fromRow(r)).map((p) => [p.id, p] as const));
  return { worldId: row.world_id, settings, seq: row.seq, roster };
}

/** POST /auth/join: a new participant's row in the Tx; the roster learns it once committed. */
export function addParticipant(ctx: HandlerContext, input: { name: string; role: ParticipantRow["role"] }): ParticipantRow {
  const { sessionId: session_id, worldId: world_id } = ctx.session;
  const row: ParticipantRow = {
    id: crypto.randomUUID(),
    version: 1,
    created_at: ctx.now,
    updated_at: ctx.now,
    world_id,
    name: input.name,
    role: input.role,
    kicked_at: null,
  };
  ctx.tx.write(participants.insert(ctx.db, { session_id, world_id }, row)).onCommit(() => ctx.session.rememberParticipant(row));
  return row;
}
