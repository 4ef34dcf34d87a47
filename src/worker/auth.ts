import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import type { z } from "zod";
import { limits, type Env } from "../env";
import { AppError, CreateSessionBodySchema, JoinBodySchema, RefreshBodySchema, validationError, type AuthGrant, type Role } from "../protocol";
import type { GameSession, RpcResult } from "../session/GameSession";
import { bearer, jsonBody, safeEqual } from "./errors";
import { rateLimit } from "./rate-limit";
import { requireSecret, signToken, verifyToken } from "./tokens";

export const sessionStub = (env: Env, sessionId: string) => {
  const ns = env.GAME_SESSION as unknown as DurableObjectNamespace<GameSession>;
  return ns.get(ns.idFromName(sessionId));
};

function wsUrl(c: Context, sessionId: string): string {
  const url = new URL(c.req.url);
  const proto = url.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${url.host}/sessions/${sessionId}/ws`;
}

function unwrap<T>(r: RpcResult<T>): T {
  if (!r.ok) throw new AppError(r.error.code, r.error.message, r.error.details);
  return r.value;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw validationError(r.error);
  return r.data;
}

async function grant(
  c: Context<{ Bindings: Env }>,
  g: { session_id: string; world_id: string; participant_id: string; role: Role; invite_code?: string },
): Promise<AuthGrant> {
  const secret = requireSecret(c.env.AUTH_SECRET);
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + limits(c.env).tokenTtlSeconds;
  const token = await signToken(secret, { sid: g.session_id, pid: g.participant_id, role: g.role, iat, exp });
  return { ...g, token, expires_at: exp, ws_url: wsUrl(c, g.session_id) };
}

/**
 * Who may create sessions. Guarded by default: the caller shows SESSION_CREATE_SECRET as a Bearer
 * token, and without a configured secret nobody may. SESSION_CREATION=open opts in to creation by
 * anyone (local runs: `npm start` and the tests set it; a deployment must set it on purpose).
 */
function checkCreationGuard(c: Context<{ Bindings: Env }>): void {
  const guard = c.env.SESSION_CREATE_SECRET;
  if (!guard) {
    if (c.env.SESSION_CREATION === "open") return;
    throw new AppError("FORBIDDEN", 'session creation is closed: set SESSION_CREATE_SECRET (wrangler secret put), or SESSION_CREATION="open" to allow anyone', {
      reason: "session_creation_closed",
    });
  }
  const given = bearer(c);
  if (!given) throw new AppError("UNAUTHENTICATED", "creating sessions needs the deployment's session-creation secret as a Bearer token");
  if (!safeEqual(given, guard)) throw new AppError("FORBIDDEN", "wrong session-creation secret");
}

/** POST /auth/sessions, /auth/join, /auth/refresh (DESIGN.md §2), with CORS for browsers. */
export const authRoutes = new Hono<{ Bindings: Env }>()
  .use("*", cors({ origin: "*", allowHeaders: ["Content-Type", "Authorization"], allowMethods: ["POST", "OPTIONS"], maxAge: 86400 }))
  .post("/sessions", rateLimit("sessions"), async (c) => {
    requireSecret(c.env.AUTH_SECRET);
    checkCreationGuard(c);
    const body = parse(CreateSessionBodySchema, await jsonBody(c));
    const session_id = crypto.randomUUID();
    const created = await sessionStub(c.env, session_id).createSession({ session_id, ...body });
    return c.json(
      await grant(c, { session_id, world_id: created.world_id, participant_id: created.participant_id, role: "dm", invite_code: created.invite_code }),
      201,
    );
  })
  .post("/join", rateLimit("join"), async (c) => {
    requireSecret(c.env.AUTH_SECRET);
    const body = parse(JoinBodySchema, await jsonBody(c));
    const row = await c.env.DB.prepare("SELECT id FROM sessions WHERE invite_code = ?").bind(body.invite_code.toUpperCase()).first<{ id: string }>();
    if (!row) throw new AppError("NOT_FOUND", "no session has this invite code");
    const role = body.role ?? "player";
    const added = unwrap(await sessionStub(c.env, row.id).addParticipant({ session_id: row.id, name: body.name, role }));
    return c.json(await grant(c, { session_id: row.id, world_id: added.world_id, participant_id: added.participant_id, role }), 201);
  })
  .post("/refresh", rateLimit("refresh"), async (c) => {
    const secret = requireSecret(c.env.AUTH_SECRET);
    const raw = c.req.header("content-type")?.includes("json") ? await jsonBody(c) : {};
    const token = bearer(c) ?? parse(RefreshBodySchema, raw).token;
    if (!token) throw new AppError("UNAUTHENTICATED", "send the current token as a Bearer token or as {token}");
    // A recently expired token may still be refreshed (within the grace period), a kicked one never.
    const claims = await verifyToken(secret, token, Date.now(), limits(c.env).refreshGraceSeconds * 1000);
    const who = unwrap(await sessionStub(c.env, claims.sid).checkParticipant({ session_id: claims.sid, participant_id: claims.pid }));
    return c.json(await grant(c, { session_id: claims.sid, world_id: who.world_id, participant_id: claims.pid, role: who.role }));
  });
