import { SELF } from "cloudflare:test";
import { BASE } from "./helpers";

/** A real 1×1 PNG. */
export const PNG_1X1 = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), (c) =>
  c.charCodeAt(0),
);

/**
 * A PNG of exactly `size` bytes (at least 57): signature, IHDR (w×h), one IDAT chunk of zeros and
 * IEND. Its chunks are well formed (CRCs aside), so it passes the magic-byte check and is stored
 * as sent (no metadata to strip).
 */
export function fakePng(size: number, w = 64, h = 32): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b.set(PNG_1X1.subarray(0, 33));
  v.setUint32(16, w);
  v.setUint32(20, h);
  v.setUint32(33, size - 33 - 12 - 12);
  b.set(new TextEncoder().encode("IDAT"), 37);
  b.set(PNG_1X1.subarray(PNG_1X1.length - 12), size - 12);
  return b;
}

/** A PNG chunk (CRC left zero: nothing here checks it). */
export function pngChunk(type: string, data: Uint8Array | string): Uint8Array {
  const body = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(12 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(body, 8);
  return out;
}

/** PNG_1X1 with these chunks inserted after its IHDR. */
export function pngWith(...chunks: Uint8Array[]): Uint8Array {
  const parts = [PNG_1X1.subarray(0, 33), ...chunks, PNG_1X1.subarray(33)];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

/** The bytes as Latin-1 text (to look for a string anywhere in an image). */
export const asText = (b: Uint8Array) => Array.from(b, (x) => String.fromCharCode(x)).join("");

export async function uploadRaw(
  token: string | null,
  body: BodyInit | null,
  opts: { query?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Response> {
  const url = new URL(`${BASE}/assets`);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { "content-type": "image/png", ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers };
  return SELF.fetch(url, { method: "POST", headers, body });
}

/** Uploads an image (as the grant's participant) and returns {asset, url}; throws unless 201. */
export async function uploadImage(
  grant: { token: string },
  bytes: Uint8Array = PNG_1X1,
  query: Record<string, string> = {},
): Promise<{ asset: any; url: string; url_expires_at: number }> {
  const res = await uploadRaw(grant.token, bytes, { query });
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return res.json();
}

export const download = (url: string, headers: Record<string, string> = {}) => SELF.fetch(`${BASE}${url}`, { headers });
