import type { AssetView, EntityRef, ImageSlot, UploadResult } from "../protocol/image-entities";
import { WrldbldrError } from "./errors";
import { isErrorBody } from "./frames";
import { httpOrigin } from "./token";

export interface UploadAssetOptions {
  label?: string;
  /** Make the upload this entity's image (a player: only its own PC's portrait). */
  entity?: EntityRef;
  image?: ImageSlot;
  /** Sent as Content-Type (the server goes by the bytes anyway). Default: the Blob's type, else application/octet-stream. */
  contentType?: string;
  fetch?: typeof fetch;
}

/** The engine's HTTP origin from a ws(s):// or http(s):// URL. */
export const engineOrigin = (url: string) => (/^wss?:/.test(url) ? httpOrigin(url) : new URL(url).origin);

/**
 * POST /assets with the raw bytes and the Bearer token; the asset and an absolute signed URL.
 * Throws a WrldbldrError with the server's code (PAYLOAD_TOO_LARGE over 10 MiB, VALIDATION_ERROR
 * with details.reason "unsupported_media_type" for anything but PNG/JPEG/WebP/GIF, FORBIDDEN…).
 */
export async function uploadAsset(
  origin: string,
  token: string,
  data: Blob | ArrayBuffer | ArrayBufferView,
  opts: UploadAssetOptions = {},
): Promise<UploadResult> {
  const q = new URLSearchParams();
  if (opts.label) q.set("label", opts.label);
  if (opts.entity) q.set("entity_kind", opts.entity.kind), q.set("entity_id", opts.entity.id);
  if (opts.image) q.set("image", opts.image);
  const bytes =
    data instanceof Blob ? null : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() : new Uint8Array(data);
  const body = data instanceof Blob ? data : new Blob([bytes!]);
  const type = opts.contentType ?? (body.type || "application/octet-stream");
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(`${engineOrigin(origin)}/assets${q.size ? `?${q}` : ""}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": type },
      body,
    });
  } catch (err) {
    throw WrldbldrError.local("UNAVAILABLE", `upload failed: ${String(err)}`, { reason: "network" });
  }
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    if (isErrorBody(json)) throw new WrldbldrError(json);
    throw WrldbldrError.local(res.status >= 500 ? "UNAVAILABLE" : "VALIDATION_ERROR", `upload failed with HTTP ${res.status}`, { status: res.status });
  }
  const result = json as UploadResult;
  return { ...result, url: new URL(result.url, engineOrigin(origin)).href };
}

/**
 * Signed asset URLs by asset id, refreshed through GetAsset when missing or about to expire —
 * for `<img src>`: call `get(id)` whenever rendering; it is cheap while the URL is valid.
 */
export class AssetUrls {
  private readonly urls = new Map<string, { url: string; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly origin: string,
    private readonly getAsset: (assetId: string) => Promise<AssetView>,
    /** A URL this close to its expiry is refreshed. */
    private readonly marginMs = 60_000,
  ) {}

  /** Remembers a URL the app already has (from ListAssets or an upload). */
  remember(asset: { id: string; url: string; url_expires_at: number }): void {
    this.urls.set(asset.id, { url: new URL(asset.url, engineOrigin(this.origin)).href, expiresAt: asset.url_expires_at * 1000 });
  }

  /** A valid absolute URL for the asset (a fresh one when needed). */
  get(assetId: string, now = Date.now()): Promise<string> {
    const known = this.urls.get(assetId);
    if (known && known.expiresAt - this.marginMs > now) return Promise.resolve(known.url);
    let pending = this.inflight.get(assetId);
    if (!pending) {
      pending = this.getAsset(assetId)
        .then((a) => (this.remember(a), this.urls.get(assetId)!.url))
        .finally(() => this.inflight.delete(assetId));
      this.inflight.set(assetId, pending);
    }
    return pending;
  }

  /** Forgets a URL (an image failed to load: it will be fetched again). */
  forget(assetId: string): void {
    this.urls.delete(assetId);
  }
}
