import { isWrldbldrError, WrldbldrError, type AuthGrant, type ErrorBody } from "../../src/client";

/**
 * HTTP: POST /auth/sessions and /auth/join, and where the browser keeps the session token. The
 * token lives in this browser only: sessionStorage (one per tab, so a DM tab and a player tab of
 * one session can coexist) with localStorage as the fallback for a new tab. Links carry it in the
 * URL fragment, which browsers never send to a server.
 */

const key = (sessionId: string) => `wrldbldr:token:${sessionId}`;

export function saveToken(sessionId: string, token: string): void {
  sessionStorage.setItem(key(sessionId), token);
  localStorage.setItem(key(sessionId), token);
}

export function loadToken(sessionId: string): string | null {
  return sessionStorage.getItem(key(sessionId)) ?? localStorage.getItem(key(sessionId));
}

export function forgetToken(sessionId: string): void {
  sessionStorage.removeItem(key(sessionId));
  localStorage.removeItem(key(sessionId));
}

/** The DM's invite code (in the grant of the session's creation), shown on the DM's page. */
export function saveInvite(sessionId: string, code: string): void {
  localStorage.setItem(`wrldbldr:invite:${sessionId}`, code);
}

export function loadInvite(sessionId: string): string | null {
  return localStorage.getItem(`wrldbldr:invite:${sessionId}`);
}

/**
 * A token handed over in the URL fragment (`#token=…&invite=…`): kept, then removed from the
 * address bar (and thus from history and bookmarks).
 */
export function takeTokenFromFragment(sessionId: string): void {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (!token) return;
  saveToken(sessionId, token);
  const invite = params.get("invite");
  if (invite) saveInvite(sessionId, invite);
  history.replaceState(null, "", location.pathname);
}

/** The claims a token carries (read, not verified: the server verifies). */
export function tokenClaims(token: string): { sid?: string; pid?: string; role?: string } {
  try {
    return JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

export function sessionWsUrl(sessionId: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/sessions/${encodeURIComponent(sessionId)}/ws`;
}

async function post(path: string, body: unknown, bearer?: string): Promise<AuthGrant> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw WrldbldrError.local("UNAVAILABLE", `the engine could not be reached (${String(err)})`);
  }
  const data: unknown = await res.json().catch(() => null);
  if (res.ok) return data as AuthGrant;
  const error = data as Partial<ErrorBody> | null;
  if (error?.code && error.message) throw new WrldbldrError({ code: error.code, message: error.message, retryable: !!error.retryable, details: error.details });
  throw WrldbldrError.local(res.status >= 500 ? "UNAVAILABLE" : "INTERNAL", `HTTP ${res.status}`);
}

export function createSession(worldName: string, dmName: string, secret?: string): Promise<AuthGrant> {
  return post("/auth/sessions", { world_name: worldName, dm_name: dmName }, secret || undefined);
}

export function joinSession(inviteCode: string, name: string, role: "player" | "spectator"): Promise<AuthGrant> {
  return post("/auth/join", { invite_code: inviteCode, name, role });
}

/** True when the server refused to create a session without (the right) creation secret. */
export function needsCreationSecret(err: unknown): boolean {
  return isWrldbldrError(err) && !err.local && (err.code === "UNAUTHENTICATED" || err.code === "FORBIDDEN");
}
