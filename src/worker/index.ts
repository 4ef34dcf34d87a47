import { Hono } from "hono";
import type { Env } from "../env";
import { AppError, WS_SUBPROTOCOL } from "../protocol";
import { IDENTITY_HEADERS } from "../session/GameSession";
import { authRoutes, sessionStub } from "./auth";
import { assetRoutes } from "./assets";
import { errorResponse } from "./errors";
import { opsRoutes } from "./ops";
import { requireSecret, verifyToken } from "./tokens";

export { GameSession } from "../session/GameSession";
export { AuthRateLimiter } from "./rate-limit";

/** The token of a WebSocket upgrade: `bearer.<token>` subprotocol (browsers) or `?token=`. */
function upgradeToken(req: Request): string | undefined {
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  const fromProtocol = protocols.find((p) => p.startsWith("bearer."))?.slice("bearer.".length);
  return fromProtocol || new URL(req.url).searchParams.get("token") || undefined;
}

export const app = new Hono<{ Bindings: Env }>()
  .route("/", opsRoutes)
  .route("/auth", authRoutes)
  .route("/assets", assetRoutes)
  .get("/sessions/:id/ws", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json(new AppError("VALIDATION_ERROR", "expected a WebSocket upgrade").toBody(), 426);
    }
    const secret = requireSecret(c.env.AUTH_SECRET);
    const token = upgradeToken(c.req.raw);
    if (!token) throw new AppError("UNAUTHENTICATED", `send the token as subprotocol 'bearer.<token>' (with '${WS_SUBPROTOCOL}') or ?token=`);
    // Verified here, before the session object is touched.
    const claims = await verifyToken(secret, token, Date.now());
    const sessionId = c.req.param("id");
    if (claims.sid !== sessionId) throw new AppError("FORBIDDEN", "this token belongs to another session");
    const headers = new Headers(c.req.raw.headers);
    headers.set(IDENTITY_HEADERS.session, sessionId);
    headers.set(IDENTITY_HEADERS.participant, claims.pid);
    headers.set(IDENTITY_HEADERS.role, claims.role);
    headers.set(IDENTITY_HEADERS.exp, String(claims.exp * 1000));
    return sessionStub(c.env, sessionId).fetch(new Request(c.req.raw.url, { headers }));
  })
  .notFound((c) => c.json(new AppError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`).toBody(), 404))
  .onError((err, c) => errorResponse(c, err));

export default app satisfies ExportedHandler<Env>;
