/** The HTTP auth routes (DESIGN.md §2): create a session as its DM, join it as a player or spectator. */
import { AuthGrantSchema, type AuthGrant } from "../../src/protocol/http";

async function post(url: string, body: unknown): Promise<AuthGrant> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${text}`);
  return AuthGrantSchema.parse(JSON.parse(text));
}

export function createSession(baseUrl: string, worldName = "bench world"): Promise<AuthGrant & { invite_code: string }> {
  return post(`${baseUrl}/auth/sessions`, { world_name: worldName, dm_name: "bench dm" }).then((g) => {
    if (!g.invite_code) throw new Error("POST /auth/sessions returned no invite_code");
    return { ...g, invite_code: g.invite_code };
  });
}

export function joinSession(baseUrl: string, inviteCode: string, name: string, role: "player" | "spectator" = "player"): Promise<AuthGrant> {
  return post(`${baseUrl}/auth/join`, { invite_code: inviteCode, name, role });
}

/** The same WebSocket URL, reached through another host:port (e.g. a TCP proxy in front of the engine). */
export function viaPort(wsUrl: string, port: number): string {
  const u = new URL(wsUrl);
  u.host = `127.0.0.1:${port}`;
  return u.toString();
}
