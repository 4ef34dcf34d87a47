import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../src/worker/index";
import { signToken } from "../../src/worker/tokens";
import { BASE, TestSocket, createSession, joinSession, post, settle } from "./helpers";

const SECRET = env.AUTH_SECRET!;

describe("HTTP auth routes", () => {
  it("POST /auth/sessions validates its body with the JSON error shape", async () => {
    const res = await post("/auth/sessions", { world_name: "", dm_name: "x" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "VALIDATION_ERROR", retryable: false });
    const bad = await SELF.fetch(`${BASE}/auth/sessions`, { method: "POST", body: "{nope" });
    expect(await bad.json()).toMatchObject({ code: "BAD_FRAME" });
  });

  it("creates a session for a DM and lets players and spectators join by invite code", async () => {
    const dm = await createSession("Greyhawk", "Gary");
    expect(dm).toMatchObject({ role: "dm", session_id: expect.any(String), invite_code: expect.any(String) });
    expect(dm.ws_url).toBe(`ws://engine.test/sessions/${dm.session_id}/ws`);
    const p = await joinSession(dm.invite_code.toLowerCase(), "Pat");
    expect(p).toMatchObject({ role: "player", session_id: dm.session_id, world_id: dm.world_id });
    const sp = await joinSession(dm.invite_code, "Sam", "spectator");
    expect(sp.role).toBe("spectator");
    const unknown = await post("/auth/join", { invite_code: "NOPE-NOPE", name: "x" });
    expect(unknown.status).toBe(404);
    const asDm = await post("/auth/join", { invite_code: dm.invite_code, name: "x", role: "dm" });
    expect(asDm.status).toBe(400);
  });

  it("refresh renews a token, accepts a recently expired one, refuses a bad one", async () => {
    const dm = await createSession();
    const res = await post("/auth/refresh", {}, { authorization: `Bearer ${dm.token}` });
    expect(res.status).toBe(200);
    const renewed = await res.json<any>();
    expect(renewed).toMatchObject({ session_id: dm.session_id, participant_id: dm.participant_id, role: "dm" });
    const now = Math.floor(Date.now() / 1000);
    const expired = await signToken(SECRET, { sid: dm.session_id, pid: dm.participant_id, role: "dm", iat: now - 7200, exp: now - 60 });
    expect((await post("/auth/refresh", { token: expired })).status).toBe(200);
    const ancient = await signToken(SECRET, { sid: dm.session_id, pid: dm.participant_id, role: "dm", iat: now - 30 * 86400, exp: now - 20 * 86400 });
    expect((await post("/auth/refresh", { token: ancient })).status).toBe(401);
    const forged = await signToken("another-secret-0123456789abcdef", { sid: dm.session_id, pid: dm.participant_id, role: "dm", iat: now, exp: now + 60 });
    expect((await post("/auth/refresh", { token: forged })).status).toBe(401);
  });

  it("answers CORS preflights on the auth routes", async () => {
    const res = await SELF.fetch(`${BASE}/auth/join`, {
      method: "OPTIONS",
      headers: { origin: "https://table.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("refuses to issue tokens without AUTH_SECRET, and honours the session-creation guard", async () => {
    const body = JSON.stringify({ world_name: "W", dm_name: "D" });
    const req = () => new Request(`${BASE}/auth/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const noSecret = await app.fetch(req(), { ...env, AUTH_SECRET: undefined });
    expect(noSecret.status).toBe(503);
    expect(await noSecret.json()).toMatchObject({ code: "UNAVAILABLE" });
    const guarded = { ...env, SESSION_CREATE_SECRET: "let-me-in" };
    expect((await app.fetch(req(), guarded)).status).toBe(401);
    const withGuard = new Request(req(), { headers: { "content-type": "application/json", authorization: "Bearer let-me-in" } });
    expect((await app.fetch(withGuard, guarded)).status).toBe(201);
  });

  it("GET /metrics needs the METRICS_TOKEN and speaks Prometheus text", async () => {
    expect((await SELF.fetch(`${BASE}/metrics`)).status).toBe(401);
    expect((await SELF.fetch(`${BASE}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(403);
    await createSession();
    const res = await SELF.fetch(`${BASE}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^wrldbldr_sessions [1-9]\d*$/m);
    expect(text).toContain("# TYPE wrldbldr_requests_total counter");
  });

  it("unknown routes get the JSON error body", async () => {
    const res = await SELF.fetch(`${BASE}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "NOT_FOUND", retryable: false });
  });
});

describe("WebSocket upgrade auth", () => {
  it("selects the wrldbldr.v1 subprotocol and also accepts ?token=", async () => {
    const dm = await createSession();
    const res = await TestSocket.upgrade(dm.session_id, dm.token);
    expect(res.status).toBe(101);
    expect(res.headers.get("sec-websocket-protocol")).toBe("wrldbldr.v1");
    res.webSocket!.accept();
    res.webSocket!.close();
    const q = await TestSocket.open(dm, "query");
    expect((await q.request({ type: "Ping" })).status).toBe("success");
    q.close();
  });

  it("refuses a missing, forged or expired token with 401 and a foreign one with 403", async () => {
    const a = await createSession("A");
    const b = await createSession("B");
    const noToken = await TestSocket.upgrade(a.session_id, null);
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ code: "UNAUTHENTICATED" });
    expect((await TestSocket.upgrade(a.session_id, `${a.token.slice(0, -3)}abc`)).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signToken(SECRET, { sid: a.session_id, pid: a.participant_id, role: "dm", iat: now - 100, exp: now - 1 });
    expect((await TestSocket.upgrade(a.session_id, expired)).status).toBe(401);
    const foreign = await TestSocket.upgrade(b.session_id, a.token);
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: "FORBIDDEN" });
    const notUpgrade = await SELF.fetch(`${BASE}/sessions/${a.session_id}/ws?token=${a.token}`);
    expect(notUpgrade.status).toBe(426);
  });

  it("a token that expires mid-connection closes the socket (4001) at expiry or on its next message, whichever comes first", async () => {
    const dm = await createSession();
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await signToken(SECRET, { sid: dm.session_id, pid: dm.participant_id, role: "dm", iat: now, exp: now + 2 });
    const s = await TestSocket.open({ session_id: dm.session_id, token: shortLived });
    expect((await s.request({ type: "Ping" })).status).toBe("success");
    await new Promise((r) => setTimeout(r, (now + 2) * 1000 - Date.now() + 50));
    try {
      s.send({ type: "Request", request_id: "late", payload: { type: "Ping" } });
    } catch {
      // already closed by the object's sweep at expiry
    }
    const err = await s.waitFor((f) => f.type === "Error", 5000);
    expect(err.code).toBe("UNAUTHENTICATED");
    expect((await s.waitClosed()).code).toBe(4001);
    expect(s.frames.some((f) => f.type === "Response" && f.request_id === "late")).toBe(false);
  });

  it("a kicked participant's sockets close (4003), its token stops working, and everyone is told", async () => {
    const dmGrant = await createSession();
    const pGrant = await joinSession(dmGrant.invite_code, "Troublemaker");
    const dm = await TestSocket.open(dmGrant);
    const p1 = await TestSocket.open(pGrant);
    const p2 = await TestSocket.open(pGrant);
    await dm.join();
    await p1.join();
    await p2.join();
    const kicked = await dm.ok({ type: "KickParticipant", participant_id: pGrant.participant_id });
    expect(kicked).toEqual({ participant_id: pGrant.participant_id, kicked: true, invite_code: expect.any(String) });
    expect((await p1.waitClosed()).code).toBe(4003);
    expect((await p2.waitClosed()).code).toBe(4003);
    await dm.waitFor((f) => f.type === "Event" && f.event.type === "ParticipantKicked");
    // Refused as FORBIDDEN (final), not UNAUTHENTICATED (which would invite a token refresh).
    const again = await TestSocket.upgrade(pGrant.session_id, pGrant.token);
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ code: "FORBIDDEN", details: { reason: "kicked" } });
    expect((await post("/auth/refresh", {}, { authorization: `Bearer ${pGrant.token}` })).status).toBe(403);
    const kickedFrame = p1.frames.find((f) => f.type === "Error");
    expect(kickedFrame).toMatchObject({ code: "FORBIDDEN", details: { reason: "kicked" } });
    expect((await dm.request({ type: "KickParticipant", participant_id: pGrant.participant_id })).code).toBe("CONFLICT");
    expect((await dm.request({ type: "KickParticipant", participant_id: dmGrant.participant_id })).code).toBe("VALIDATION_ERROR");
    const roster = await dm.ok({ type: "ListParticipants" });
    expect(roster.items.find((x: any) => x.id === pGrant.participant_id)).toMatchObject({ kicked: true, online: false });
    await settle();
    dm.close();
  });
});
