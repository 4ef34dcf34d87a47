import type { Context } from "hono";
import { AppError } from "../protocol";

/** HTTP routes answer errors with the same {code, message, retryable} body as the socket. */
export function errorResponse(c: Context, err: unknown): Response {
  const e = AppError.from(err);
  if (!(err instanceof AppError)) console.error(JSON.stringify({ msg: "route failed", path: c.req.path, error: String(err) }));
  const wait = e.code === "RATE_LIMITED" ? Number(e.details?.retry_after_ms) : NaN;
  // Retry-After is in whole seconds; the body keeps the exact milliseconds.
  if (Number.isFinite(wait)) c.header("Retry-After", String(Math.max(1, Math.ceil(wait / 1000))));
  return c.json(e.toBody(), e.status as 400);
}

export async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AppError("BAD_FRAME", "request body is not valid JSON");
  }
}

export function bearer(c: Context): string | undefined {
  const h = c.req.header("authorization");
  return h?.startsWith("Bearer ") ? h.slice(7).trim() : undefined;
}

/** Constant-time comparison for shared secrets. */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
