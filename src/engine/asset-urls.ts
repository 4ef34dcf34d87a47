import { AppError } from "../protocol";

/**
 * Signed, expiring asset URLs: `/assets/<id>?s=<session>&exp=<seconds>&sig=<hmac>`, the HMAC
 * (SHA-256) over session, id and expiry with a key derived from AUTH_SECRET (never the token key
 * itself). The session is in the signed part, so a URL cannot be turned towards another session's
 * object; no D1 read is needed to serve one.
 */
const enc = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmac(key: CryptoKey, text: string): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", key, enc.encode(text));
}

async function importKey(raw: BufferSource): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

function urlKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = importKey(enc.encode(secret))
      .then((k) => hmac(k, "wrldbldr asset url v1"))
      .then(importKey);
    keys.set(secret, key);
  }
  return key;
}

function b64url(buf: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function signature(secret: string, sessionId: string, assetId: string, exp: number): Promise<string> {
  return b64url(await hmac(await urlKey(secret), `${sessionId}\n${assetId}\n${exp}`));
}

/**
 * A URL valid for at least `ttlSeconds`: the expiry is rounded up to a multiple of the TTL, so
 * every URL minted within one window is the same and browsers cache the image once.
 */
export async function signAssetUrl(secret: string | undefined, sessionId: string, assetId: string, ttlSeconds: number, nowMs = Date.now()) {
  if (!secret || secret.length < 16) throw new AppError("UNAVAILABLE", "AUTH_SECRET is not configured: asset URLs cannot be signed");
  const now = Math.floor(nowMs / 1000);
  const exp = (Math.floor((now + ttlSeconds) / ttlSeconds) + 1) * ttlSeconds;
  const sig = await signature(secret, sessionId, assetId, exp);
  const q = new URLSearchParams({ s: sessionId, exp: String(exp), sig });
  return { url: `/assets/${encodeURIComponent(assetId)}?${q}`, expires_at: exp };
}

/** The session of a valid URL; UNAUTHENTICATED when unsigned or expired, FORBIDDEN when forged. */
export async function verifyAssetUrl(
  secret: string,
  assetId: string,
  q: { s?: string; exp?: string; sig?: string },
  nowMs = Date.now(),
): Promise<{ sessionId: string; exp: number }> {
  if (!q.s || !q.exp || !q.sig) throw new AppError("UNAUTHENTICATED", "asset URLs must be signed (s, exp, sig): ask GetAsset for one");
  const exp = Number(q.exp);
  if (!/^\d{1,12}$/.test(q.exp)) throw new AppError("FORBIDDEN", "invalid asset URL signature");
  const expected = await signature(secret, q.s, assetId, exp);
  if (!constantTimeEqual(expected, q.sig)) throw new AppError("FORBIDDEN", "invalid asset URL signature");
  if (exp * 1000 <= nowMs) throw new AppError("UNAUTHENTICATED", "the asset URL expired: ask GetAsset for a fresh one", { reason: "expired", expired_at: exp });
  return { sessionId: q.s, exp };
}

function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** Where an asset's bytes live in R2. */
export const assetKey = (sessionId: string, assetId: string) => `sessions/${sessionId}/assets/${assetId}`;
