import { DurableObject } from "cloudflare:workers";
import type { MiddlewareHandler } from "hono";
import { authLimits, type Env } from "../env";
import { AppError } from "../protocol";

/**
 * What each /auth route may be asked per client address (see docs/engine.md, "Abuse resistance");
 * "uploads": POST /assets per participant (an object per session and participant, docs/images.md).
 */
export type AuthBucket = "sessions" | "join" | "refresh" | "uploads";

type Bucket = { tokens: number; at: number };

/**
 * Token buckets of one client address, one per /auth route: up to `perMinute` requests at once,
 * refilled at `perMinute` a minute. Kept in memory only: the object is evicted only after a
 * minute or more of silence, by which time every bucket has refilled anyway.
 *
 * Why a Durable Object and not the Workers Rate Limiting binding: the binding's limit and period
 * (10 or 60 s) are fixed in wrangler.toml, its counts are per Cloudflare location and approximate,
 * and it tells no retry time; this object takes its limits from vars, counts exactly, and answers
 * with the wait in milliseconds (Retry-After). It costs one object call per /auth request.
 */
export class AuthRateLimiter extends DurableObject<Env> {
  private readonly buckets = new Map<AuthBucket, Bucket>();

  take(bucket: AuthBucket, perMinute: number, now = Date.now()): { ok: true } | { ok: false; retry_after_ms: number } {
    const perMs = perMinute / 60_000;
    const b = this.buckets.get(bucket) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * perMs);
    b.at = now;
    this.buckets.set(bucket, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retry_after_ms: Math.ceil((1 - b.tokens) / perMs) };
  }
}

/**
 * The client's address as the limiter's key. Cloudflare sets CF-Connecting-IP on every request
 * (clients cannot forge it there); an IPv6 client counts as its /64, which it usually owns whole.
 * Without the header (local runs) every client shares one key.
 */
export function clientKey(req: Request): string {
  const ip = req.headers.get("cf-connecting-ip")?.trim();
  if (!ip) return "local";
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const full = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${full
    .slice(0, 4)
    .map((h) => h.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * One upload of a participant, counted in its own bucket (`uploadsPerMinute` at once, refilled at
 * that a minute): RATE_LIMITED (429, Retry-After, `details.reason: "upload_rate"`) beyond it.
 */
export async function takeUpload(env: Env, sessionId: string, participantId: string, perMinute: number): Promise<void> {
  if (perMinute <= 0) return;
  const ns = env.AUTH_RATE_LIMITER as unknown as DurableObjectNamespace<AuthRateLimiter>;
  const verdict = await ns.get(ns.idFromName(`upload:${sessionId}:${participantId}`)).take("uploads", perMinute);
  if (!verdict.ok) {
    throw new AppError("RATE_LIMITED", `too many uploads: at most ${perMinute} a minute per participant; retry in ${verdict.retry_after_ms} ms`, {
      reason: "upload_rate",
      limit: perMinute,
      retry_after_ms: verdict.retry_after_ms,
    });
  }
}

/** Refuses a request over its address's limit with RATE_LIMITED (429, Retry-After). */
export function rateLimit(bucket: Exclude<AuthBucket, "uploads">): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const perMinute = authLimits(c.env)[bucket];
    if (perMinute > 0) {
      const ns = c.env.AUTH_RATE_LIMITER as unknown as DurableObjectNamespace<AuthRateLimiter>;
      const verdict = await ns.get(ns.idFromName(clientKey(c.req.raw))).take(bucket, perMinute);
      if (!verdict.ok) {
        throw new AppError("RATE_LIMITED", `too many ${bucket} requests from this address: retry in ${verdict.retry_after_ms} ms`, {
          retry_after_ms: verdict.retry_after_ms,
        });
      }
    }
    await next();
  };
}
