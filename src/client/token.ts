import type { AuthGrant } from "../protocol/http";
import { WrldbldrError } from "./errors";
import { isAuthGrant, isErrorBody } from "./frames";

/**
 * The expiry (ms since epoch) written in a session token, or undefined when it cannot be read.
 * Tokens are `base64url(claims).signature`; the client reads the claims (it cannot and need not
 * verify them) so it can refresh an expired token before dialing instead of failing an upgrade.
 */
export function tokenExpiry(token: string): number | undefined {
  const body = token.split(".")[0];
  if (!body) return undefined;
  try {
    const claims: unknown = JSON.parse(atob(body.replace(/-/g, "+").replace(/_/g, "/")));
    const exp = (claims as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The HTTP origin of the engine a ws(s):// session URL points at. */
export function httpOrigin(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.origin;
}

export interface RefreshOptions {
  /** The engine's HTTP origin, or its ws_url (the origin is derived). */
  url: string;
  fetch?: typeof fetch;
}

/**
 * POST /auth/refresh with the current (possibly just expired) token; returns the new grant.
 * Throws a WrldbldrError: UNAUTHENTICATED when the token may not be refreshed (revoked, kicked,
 * past the grace period) — reconnecting is pointless then — or UNAVAILABLE when the engine could
 * not be reached (worth retrying later).
 */
export async function refreshGrant(token: string, opts: RefreshOptions): Promise<AuthGrant> {
  const origin = /^wss?:/.test(opts.url) ? httpOrigin(opts.url) : new URL(opts.url).origin;
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`${origin}/auth/refresh`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw WrldbldrError.local("UNAVAILABLE", `token refresh failed: ${String(err)}`, { reason: "network" });
  }
  const body: unknown = await res.json().catch(() => null);
  if (res.ok) {
    if (isAuthGrant(body)) return body;
    throw WrldbldrError.local("INTERNAL", "token refresh returned an unexpected body", { status: res.status });
  }
  if (isErrorBody(body)) throw new WrldbldrError(body);
  throw WrldbldrError.local(res.status >= 500 ? "UNAVAILABLE" : "UNAUTHENTICATED", `token refresh failed with HTTP ${res.status}`, { status: res.status });
}

/**
 * A `refreshToken` callback for `connect()` that renews the token through POST /auth/refresh.
 * `onGrant` lets the app store the new grant (e.g. in localStorage).
 */
export function refreshViaHttp(opts: RefreshOptions & { onGrant?: (grant: AuthGrant) => void }) {
  return async ({ token }: { token: string }): Promise<string> => {
    const grant = await refreshGrant(token, opts);
    opts.onGrant?.(grant);
    return grant.token;
  };
}
