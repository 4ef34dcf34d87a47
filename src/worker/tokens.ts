import { AppError, TokenClaimsSchema, type TokenClaims } from "../protocol";

/**
 * Session tokens: `base64url(claims JSON).base64url(HMAC-SHA256(claims part))`, signed with
 * AUTH_SECRET. Short lived; refreshed through POST /auth/refresh.
 */
const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

export function requireSecret(secret: string | undefined): string {
  if (!secret || secret.length < 16) {
    throw new AppError("UNAVAILABLE", "AUTH_SECRET is not configured (wrangler secret put AUTH_SECRET)");
  }
  return secret;
}

export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const body = b64url(enc.encode(JSON.stringify(claims)));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(body));
  return `${body}.${b64url(new Uint8Array(sig))}`;
}

/**
 * Verifies signature and shape. Expiry is checked against `now`, allowing `graceMs` past it
 * (used by refresh, which accepts a recently expired token).
 */
export async function verifyToken(secret: string, token: string, now: number, graceMs = 0): Promise<TokenClaims> {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined) throw new AppError("UNAUTHENTICATED", "malformed token");
  let ok = false;
  try {
    ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), fromB64url(sig), enc.encode(body));
  } catch {
    ok = false;
  }
  if (!ok) throw new AppError("UNAUTHENTICATED", "invalid token signature");
  let claims: TokenClaims;
  try {
    claims = TokenClaimsSchema.parse(JSON.parse(new TextDecoder().decode(fromB64url(body))));
  } catch {
    throw new AppError("UNAUTHENTICATED", "malformed token claims");
  }
  if (claims.exp * 1000 + graceMs <= now) throw new AppError("UNAUTHENTICATED", "token expired", { expired_at: claims.exp });
  return claims;
}
