import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import { z } from "zod";
import { limits, type Env } from "../env";
import { assetKey, signAssetUrl, verifyAssetUrl } from "../engine/asset-urls";
import { sha256Hex, sniffImage } from "../engine/image-sniff";
import { stripMetadata } from "../engine/image-strip";
import { newId } from "../engine/store";
import { AppError, EntityRefSchema, ImageSlotSchema, validationError, type Asset, type UploadResult } from "../protocol";
import { assetUsage, checkUploadQuota, type UploadInput } from "../domain/assets";
import type { RpcResult } from "../session/GameSession";
import { sessionStub } from "./auth";
import { bearer, errorResponse } from "./errors";
import { takeUpload } from "./rate-limit";
import { requireSecret, verifyToken } from "./tokens";

type C = Context<{ Bindings: Env }>;

function unwrap<T>(r: RpcResult<T>): T {
  if (!r.ok) throw new AppError(r.error.code, r.error.message, r.error.details);
  return r.value;
}

/** `?label=&entity_kind=&entity_id=&image=`: an optional label, and an entity whose image the upload becomes. */
const UploadQuerySchema = z.object({
  label: z.string().max(200).optional(),
  entity_kind: EntityRefSchema.shape.kind.optional(),
  entity_id: EntityRefSchema.shape.id.optional(),
  image: ImageSlotSchema.optional(),
});

function uploadTarget(c: C): { label: string; target: UploadInput["target"] } {
  const q = UploadQuerySchema.safeParse(c.req.query());
  if (!q.success) throw validationError(q.error, ["query"]);
  const { label = "", entity_kind, entity_id, image } = q.data;
  if (!entity_kind !== !entity_id) throw new AppError("VALIDATION_ERROR", "entity_kind and entity_id go together");
  const target =
    entity_kind && entity_id ? { entity: { kind: entity_kind, id: entity_id }, image: image ?? (entity_kind === "character" ? "portrait" : "backdrop") } : null;
  return { label, target };
}

/** 413 before a byte is read: no length, or a length over the limit. */
function checkLength(c: C, max: number): number {
  const header = c.req.header("content-length");
  if (header === undefined || !/^\d+$/.test(header)) {
    throw new AppError("PAYLOAD_TOO_LARGE", `send the image with a Content-Length (at most ${max} bytes)`, { reason: "length_required", limit: max });
  }
  const length = Number(header);
  if (length > max) throw new AppError("PAYLOAD_TOO_LARGE", `image of ${length} bytes exceeds ${max}`, { limit: max });
  if (length === 0) throw new AppError("VALIDATION_ERROR", "the body is empty: send the image bytes");
  return length;
}

/** The body, never more than `length` bytes: one more is 413, fewer (a cut upload) is 400. */
async function readExactly(body: ReadableStream<Uint8Array> | null, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  const reader = body?.getReader();
  if (reader) {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        throw new AppError("VALIDATION_ERROR", `the body broke off after ${at} of ${length} bytes`, { reason: "truncated" });
      }
      const { done, value } = chunk;
      if (done) break;
      if (at + value.byteLength > length) {
        await reader.cancel();
        throw new AppError("PAYLOAD_TOO_LARGE", `the body runs past its Content-Length of ${length} bytes`, { limit: length });
      }
      out.set(value, at);
      at += value.byteLength;
    }
  }
  if (at < length) throw new AppError("VALIDATION_ERROR", `the body ended after ${at} of ${length} bytes`, { reason: "truncated" });
  return out;
}

/**
 * POST /assets (Bearer token; the raw image as body) and GET /assets/:id (signed URL).
 * Who may upload, limits and formats: docs/images.md.
 */
export const assetRoutes = new Hono<{ Bindings: Env }>()
  .use(
    "*",
    cors({
      origin: "*",
      allowHeaders: ["Content-Type", "Authorization"],
      allowMethods: ["GET", "POST", "OPTIONS"],
      exposeHeaders: ["ETag", "Content-Range"],
      maxAge: 86400,
    }),
  )
  .post("/", async (c) => {
    const secret = requireSecret(c.env.AUTH_SECRET);
    const token = bearer(c);
    if (!token) throw new AppError("UNAUTHENTICATED", "send the session token as a Bearer token");
    const claims = await verifyToken(secret, token, Date.now());
    const l = limits(c.env);
    const length = checkLength(c, l.maxUploadBytes);
    const { label, target } = uploadTarget(c);
    const actor = { participant_id: claims.pid, role: claims.role };
    const session = sessionStub(c.env, claims.sid);
    // Every attempt counts against the participant's rate (429), refused ones too.
    await takeUpload(c.env, claims.sid, claims.pid, l.uploadsPerMinute);
    // Who may upload what, and whether the declared length fits the quotas (413), is known before
    // a byte is read; the quotas are checked again when the row is written.
    unwrap(await session.checkUpload({ session_id: claims.sid, actor, target }));
    checkUploadQuota(await assetUsage(c.env.DB, claims.sid, claims.pid), length, l);

    const received = await readExactly(c.req.raw.body, length);
    const info = sniffImage(received);
    if (!info) {
      const e = new AppError("VALIDATION_ERROR", "not a PNG, JPEG, WebP or GIF image (checked by its bytes, whatever its Content-Type says)", {
        reason: "unsupported_media_type",
        accepted: ["image/png", "image/jpeg", "image/webp", "image/gif"],
      });
      return c.json(e.toBody(), 415);
    }
    // Stored without its metadata (EXIF, XMP, text chunks, comments): see docs/images.md.
    const bytes = stripMetadata(info.content_type, received);
    const sha256 = await sha256Hex(bytes);
    const asset_id = newId();
    const key = assetKey(claims.sid, asset_id);
    await c.env.IMAGES.put(key, bytes, { httpMetadata: { contentType: info.content_type }, sha256 });
    let result: RpcResult<Asset>;
    try {
      result = await session.recordUpload({ session_id: claims.sid, actor, upload: { asset_id, ...info, size: bytes.byteLength, sha256, label, target } });
    } catch (err) {
      result = { ok: false, error: AppError.from(err).toBody() };
    }
    // No row, no object: an upload that fails here leaves nothing behind.
    if (!result.ok) await c.env.IMAGES.delete(key);
    const asset = unwrap(result);
    const { url, expires_at } = await signAssetUrl(secret, claims.sid, asset.id, l.assetUrlTtlSeconds);
    return c.json({ asset, url, url_expires_at: expires_at } satisfies UploadResult, 201);
  })
  .get("/:id", async (c) => {
    const secret = requireSecret(c.env.AUTH_SECRET);
    const id = c.req.param("id");
    const { sessionId, exp } = await verifyAssetUrl(secret, id, c.req.query());
    const object = await c.env.IMAGES.get(assetKey(sessionId, id), { range: c.req.raw.headers, onlyIf: c.req.raw.headers });
    if (!object) throw new AppError("NOT_FOUND", `asset '${id}' not found`, { id });
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set("etag", object.httpEtag);
    // Cached as long as the URL is valid, by this browser only.
    headers.set("cache-control", `private, max-age=${Math.max(0, exp - Math.floor(Date.now() / 1000))}`);
    headers.set("x-content-type-options", "nosniff");
    headers.set("content-security-policy", "default-src 'none'; sandbox");
    headers.set("accept-ranges", "bytes");
    if (!("body" in object)) return new Response(null, { status: 304, headers });
    const range = object.range as { offset?: number; length?: number } | undefined;
    if (range && c.req.header("range")) {
      const offset = range.offset ?? 0;
      const len = range.length ?? object.size - offset;
      headers.set("content-range", `bytes ${offset}-${offset + len - 1}/${object.size}`);
      headers.set("content-length", String(len));
      return new Response(object.body, { status: 206, headers });
    }
    headers.set("content-length", String(object.size));
    return new Response(object.body, { headers });
  })
  .onError((err, c) => errorResponse(c, err));
