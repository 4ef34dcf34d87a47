import { SELF } from "cloudflare:test";
import { BASE } from "./helpers";

/** A real 1×1 PNG. */
export const PNG_1X1 = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

/** A PNG signature and IHDR (w×h), padded with zeros to `size` bytes: passes the magic-byte check. */
export function fakePng(size: number, w = 64, h = 32): Uint8Array {
  const b = new Uint8Array(size);
  b.set(PNG_1X1.subarray(0, 24));
  new DataView(b.buffer).setUint32(16, w);
  new DataView(b.buffer).setUint32(20, h);
  return b;
}

export async function uploadRaw(token: string | null, body: BodyInit | null, opts: { query?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
  const url = new URL(`${BASE}/assets`);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { "content-type": "image/png", ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers };
  return SELF.fetch(url, { method: "POST", headers, body });
}

/** Uploads an image (as the grant's participant) and returns {asset, url}; throws unless 201. */
export async function uploadImage(grant: { token: string }, bytes: Uint8Array = PNG_1X1, query: Record<string, string> = {}): Promise<{ asset: any; url: string; url_expires_at: number }> {
  const res = await uploadRaw(grant.token, bytes, { query });
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return res.json();
}

export const download = (url: string, headers: Record<string, string> = {}) => SELF.fetch(`${BASE}${url}`, { headers });
