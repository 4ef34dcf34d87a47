import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { signAssetUrl } from "../../src/engine/asset-urls";
import { sessionStub } from "../../src/worker/auth";
import { app } from "../../src/worker/index";
import { seedAsDm, seedImages } from "../../scripts/demo";
import { BASE, TestSocket, createSession, joinSession, settle, table } from "./helpers";
import { PNG_1X1, asText, download, fakePng, pngChunk, pngWith, uploadImage, uploadRaw } from "./image-helpers";

const MiB = 1024 * 1024;
const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

async function objectsOf(sessionId: string): Promise<string[]> {
  return (await env.IMAGES.list({ prefix: `sessions/${sessionId}/assets/` })).objects.map((o) => o.key);
}
async function rowsOf(sessionId: string): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM assets WHERE session_id = ?").bind(sessionId).first<{ n: number }>())!.n;
}
/** A body of `sent` bytes that claims `claimed` in its Content-Length. */
function lyingStream(sent: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(sent);
      c.close();
    },
  });
}

describe("POST /assets", () => {
  it("stores a DM's image in R2 and D1, sends AssetCreated, and answers {asset, url}", async () => {
    const t = await table();
    const res = await uploadRaw(t.dmGrant.token, PNG_1X1, { query: { label: "Mira" } });
    expect(res.status).toBe(201);
    const { asset, url, url_expires_at } = await res.json<any>();
    expect(asset).toMatchObject({
      content_type: "image/png",
      size: PNG_1X1.length,
      width: 1,
      height: 1,
      label: "Mira",
      source: "upload",
      created_by: t.dmGrant.participant_id,
      depicts: null,
      tags: [],
    });
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", PNG_1X1)), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(asset.sha256).toBe(digest);
    expect(url_expires_at * 1000).toBeGreaterThan(Date.now() + 3_500_000);
    expect(await objectsOf(t.dmGrant.session_id)).toEqual([`sessions/${t.dmGrant.session_id}/assets/${asset.id}`]);
    for (const s of [t.dm, t.player, t.spectator]) expect((await s.waitFor(ev("AssetCreated"))).event.asset.id).toBe(asset.id);
    const got = await download(url);
    expect(got.status).toBe(200);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(PNG_1X1);
    t.close();
  });

  it("recognises the type by its bytes: a PNG sent as text/plain is a PNG; SVG or text sent as image/png is 415", async () => {
    const { token, session_id } = await createSession();
    const asText = await uploadRaw(token, PNG_1X1, { headers: { "content-type": "text/plain" } });
    expect(asText.status).toBe(201);
    expect((await asText.json<any>()).asset.content_type).toBe("image/png");
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    for (const [body, type] of [
      [svg, "image/svg+xml"],
      [svg, "image/png"],
      [new TextEncoder().encode("GIF8 not really"), "image/gif"],
    ] as const) {
      const res = await uploadRaw(token, body, { headers: { "content-type": type } });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ code: "VALIDATION_ERROR", details: { reason: "unsupported_media_type" } });
    }
    for (const [bytes, type, w, h] of [
      [Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0, 20, 0, 30, 1, 0, 0, 0]), "image/jpeg", 30, 20],
      [Uint8Array.from([...new TextEncoder().encode("GIF89a"), 5, 0, 7, 0, 0, 0, 0]), "image/gif", 5, 7],
      [
        Uint8Array.from([...new TextEncoder().encode("RIFF"), 0, 0, 0, 0, ...new TextEncoder().encode("WEBPVP8X"), 10, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 4, 0, 0]),
        "image/webp",
        10,
        5,
      ],
    ] as const) {
      const res = await uploadRaw(token, bytes, { headers: { "content-type": "application/octet-stream" } });
      expect(res.status).toBe(201);
      expect((await res.json<any>()).asset).toMatchObject({ content_type: type, width: w, height: h });
    }
    expect(await rowsOf(session_id)).toBe(4);
    expect(await objectsOf(session_id)).toHaveLength(4);
  });

  it("takes exactly 10 MiB and refuses 10 MiB + 1 and a body without a Content-Length (413), storing nothing", async () => {
    const { token, session_id } = await createSession();
    const exact = await uploadRaw(token, fakePng(10 * MiB));
    expect(exact.status).toBe(201);
    expect((await exact.json<any>()).asset).toMatchObject({ size: 10 * MiB, width: 64, height: 32 });

    const over = await uploadRaw(token, fakePng(10 * MiB + 1));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { limit: 10 * MiB } });

    const chunked = await uploadRaw(token, lyingStream(PNG_1X1));
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toMatchObject({ details: { reason: "length_required" } });

    expect(await rowsOf(session_id)).toBe(1);
    expect(await objectsOf(session_id)).toHaveLength(1);
  });

  it("refuses a body that breaks off before its Content-Length (400), storing nothing", async () => {
    const { token, session_id } = await createSession();
    // A FixedLengthStream declares the length; writing fewer bytes and closing cuts the body short.
    const short = new FixedLengthStream(1000);
    const writer = short.writable.getWriter();
    const sent = uploadRaw(token, short.readable, { headers: { "content-length": "1000" } });
    void writer
      .write(fakePng(400))
      .then(() => writer.abort("cut"))
      .catch(() => undefined);
    const res = await sent;
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "VALIDATION_ERROR", details: { reason: "truncated" } });
    expect(await rowsOf(session_id)).toBe(0);
    expect(await objectsOf(session_id)).toHaveLength(0);
  });

  it("stores images without their metadata (PNG text and EXIF chunks, JPEG APPn and COM, WebP EXIF/XMP, GIF comments), and refuses a malformed one", async () => {
    const { token, session_id } = await createSession();
    const te = (x: string) => [...new TextEncoder().encode(x)];
    const be16 = (n: number) => [n >> 8, n & 0xff];
    const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
    const seg = (marker: number, body: number[]) => [0xff, marker, ...be16(body.length + 2), ...body];
    const sof = seg(0xc0, [8, 0, 20, 0, 30, 1, 1, 0x11, 0]);
    const sos = seg(0xda, [1, 1, 0, 0, 0x3f, 0]);
    const icc = seg(0xe2, [...te("ICC_PROFILE\0"), 1, 1, 9, 9]);
    const jpeg = [
      0xff,
      0xd8,
      ...seg(0xe0, [...te("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0]),
      ...seg(0xe1, te("Exif\0\0SECRET gps")),
      ...icc,
      ...seg(0xfe, te("SECRET comment")),
      ...sof,
      ...sos,
      0x12,
      0xff,
      0x00,
      0x34,
      0xff,
      0xd0,
      0x56,
      ...seg(0xe1, te("http://ns.adobe.com/xap/1.0/\0SECRET xmp")),
      ...sos,
      0x78,
      0xff,
      0xd9,
      ...te("SECRET trailer"),
    ];
    const jpegClean = [0xff, 0xd8, ...icc, ...sof, ...sos, 0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, ...sos, 0x78, 0xff, 0xd9];
    const vp8x = (flags: number) => [...te("VP8X"), ...le32(10), flags, 0, 0, 0, 9, 0, 0, 4, 0, 0];
    const riff = (chunks: number[]) => [...te("RIFF"), ...le32(chunks.length + 4), ...te("WEBP"), ...chunks];
    const webp = riff([
      ...vp8x(0x0c),
      ...te("EXIF"),
      ...le32(11),
      ...te("SECRET exif"),
      0,
      ...te("XMP "),
      ...le32(10),
      ...te("SECRET xmp"),
      ...te("VP8L"),
      ...le32(2),
      1,
      2,
    ]);
    const webpClean = riff([...vp8x(0), ...te("VP8L"), ...le32(2), 1, 2]);
    const image = [0x2c, 0, 0, 0, 0, 5, 0, 7, 0, 0, 2, 2, 0x4c, 1, 0];
    const loop = [0x21, 0xff, 11, ...te("NETSCAPE2.0"), 3, 1, 0, 0, 0];
    const gifHead = [...te("GIF89a"), 5, 0, 7, 0, 0, 0, 0];
    const gif = [
      ...gifHead,
      0x21,
      0xfe,
      14,
      ...te("SECRET comment"),
      0,
      0x21,
      0xff,
      11,
      ...te("XMP DataXMP"),
      10,
      ...te("SECRET xmp"),
      0,
      ...loop,
      ...image,
      0x3b,
      ...te("SECRET"),
    ];
    const gifClean = [...gifHead, ...loop, ...image, 0x3b];
    // A photo's EXIF: its orientation (6: turned 90°) survives alone, as a minimal EXIF.
    const le16 = (n: number) => [n & 0xff, n >> 8];
    const exif = [
      ...te("Exif\0\0II"),
      0x2a,
      0,
      ...le32(8),
      ...le16(2),
      ...le16(0x010f),
      ...le16(2),
      ...le32(7),
      ...le32(38),
      ...le16(0x0112),
      ...le16(3),
      ...le32(1),
      ...le16(6),
      0,
      0,
      ...le32(0),
      ...te("SECRET\0"),
    ];
    const orientation = [...te("Exif\0\0MM"), 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
    const photo = [0xff, 0xd8, ...seg(0xe1, exif), ...sof, ...sos, 0x12, 0xff, 0xd9];
    const photoClean = [0xff, 0xd8, ...seg(0xe1, orientation), ...sof, ...sos, 0x12, 0xff, 0xd9];
    const png = pngWith(
      pngChunk("tEXt", "Comment\0SECRET text"),
      pngChunk("zTXt", "Comment\0\0SECRET"),
      pngChunk("iTXt", "XML:com.adobe.xmp\0\0\0\0\0SECRET xmp"),
      pngChunk("eXIf", "MM\0*SECRET exif"),
      pngChunk("gAMA", "\0\0\xb1\x8f"),
    );
    const pngClean = pngWith(pngChunk("gAMA", "\0\0\xb1\x8f"));

    for (const [sent, clean, w, h] of [
      [png, pngClean, 1, 1],
      [jpeg, jpegClean, 30, 20],
      [webp, webpClean, 10, 5],
      [gif, gifClean, 5, 7],
      [photo, photoClean, 30, 20],
    ] as const) {
      const { asset, url } = await uploadImage({ token }, Uint8Array.from(sent));
      const stored = new Uint8Array(await (await download(url)).arrayBuffer());
      expect(asText(Uint8Array.from(sent))).toContain("SECRET");
      expect(asText(stored)).not.toContain("SECRET");
      expect(stored).toEqual(Uint8Array.from(clean));
      const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", stored)), (b) => b.toString(16).padStart(2, "0")).join("");
      expect(asset).toMatchObject({ size: stored.length, sha256: digest, width: w, height: h });
    }

    // A chunk running past the end cannot be walked: refused, nothing stored.
    const broken = pngWith(pngChunk("tEXt", "Comment\0SECRET")).slice(0, 50);
    const res = await uploadRaw(token, broken);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "VALIDATION_ERROR", details: { reason: "malformed_image" } });
    expect(await rowsOf(session_id)).toBe(5);
    expect(await objectsOf(session_id)).toHaveLength(5);
  });

  it("needs a valid token; spectators upload nothing; players only their own PC's portrait (which it becomes)", async () => {
    const t = await table();
    expect((await uploadRaw(null, PNG_1X1)).status).toBe(401);
    expect((await uploadRaw("forged.token", PNG_1X1)).status).toBe(401);
    expect((await uploadRaw(t.spectatorGrant.token, PNG_1X1)).status).toBe(403);
    expect((await uploadRaw(t.playerGrant.token, PNG_1X1)).status).toBe(403);
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Guard" } });
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const other = await joinSession(t.dmGrant.invite_code, "Player Two");
    expect((await uploadRaw(t.playerGrant.token, PNG_1X1, { query: { entity_kind: "character", entity_id: npc.id } })).status).toBe(403);
    expect((await uploadRaw(other.token, PNG_1X1, { query: { entity_kind: "character", entity_id: pc.id } })).status).toBe(403);
    expect((await uploadRaw(t.playerGrant.token, PNG_1X1, { query: { entity_kind: "character", entity_id: pc.id, image: "sprite" } })).status).toBe(403);
    expect(await rowsOf(t.dmGrant.session_id)).toBe(0);

    const { asset } = await uploadImage(t.playerGrant, PNG_1X1, { entity_kind: "character", entity_id: pc.id });
    expect(asset).toMatchObject({ depicts: { kind: "character", id: pc.id }, created_by: t.playerGrant.participant_id });
    const updated = await t.spectator.waitFor(ev("CharacterUpdated", (e) => e.character.portrait_asset_id === asset.id));
    expect(updated.event.character.id).toBe(pc.id);
    expect(await objectsOf(t.dmGrant.session_id)).toEqual([`sessions/${t.dmGrant.session_id}/assets/${asset.id}`]);
    t.close();
  });

  it("cannot reach another session's entities, and a failed upload leaves neither object nor row", async () => {
    const a = await table();
    const pc = await a.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const b = await createSession();
    const res = await uploadRaw(b.token, PNG_1X1, { query: { entity_kind: "character", entity_id: pc.id } });
    expect(res.status).toBe(404);
    expect(await rowsOf(b.session_id)).toBe(0);
    expect(await objectsOf(b.session_id)).toHaveLength(0);
    expect((await a.dm.ok({ type: "GetCharacter", character_id: pc.id })).portrait_asset_id).toBeNull();
    a.close();
  });
});

/** POST /assets through the Worker with these vars (the session object keeps its own). */
function uploadWith(vars: Record<string, string>, token: string, bytes: Uint8Array, query: Record<string, string> = {}): Promise<Response> {
  const url = new URL(`${BASE}/assets`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const req = new Request(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "image/png", "content-length": String(bytes.length) },
    body: bytes,
  });
  return app.fetch(req, { ...env, ...vars }) as Promise<Response>;
}

describe("POST /assets: rate and quotas", () => {
  it("limits each participant's upload rate (429 upload_rate with Retry-After), storing nothing beyond it", async () => {
    const t = await table();
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const vars = { UPLOADS_PER_MINUTE: "3" };
    for (let i = 0; i < 3; i++) expect((await uploadWith(vars, t.dmGrant.token, PNG_1X1)).status).toBe(201);
    for (let i = 0; i < 12; i++) {
      const res = await uploadWith(vars, t.dmGrant.token, PNG_1X1);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await res.json()).toMatchObject({ code: "RATE_LIMITED", details: { reason: "upload_rate", limit: 3, retry_after_ms: expect.any(Number) } });
    }
    expect(await rowsOf(t.dmGrant.session_id)).toBe(3);
    expect(await objectsOf(t.dmGrant.session_id)).toHaveLength(3);
    // Another participant has a bucket of its own.
    expect((await uploadWith(vars, t.playerGrant.token, PNG_1X1, { entity_kind: "character", entity_id: pc.id })).status).toBe(201);
    t.close();
  });

  it("refuses uploads over the participant's and the session's quotas (413 with the reason) before reading them", async () => {
    const t = await table();
    const sid = t.dmGrant.session_id;
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const asPlayer = { entity_kind: "character", entity_id: pc.id };
    const refused = async (res: Response, reason: string, limit: number) => {
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { reason, limit, used: expect.any(Number) } });
    };
    const count = { UPLOAD_MAX_COUNT_PER_PARTICIPANT: "2" };
    for (let i = 0; i < 2; i++) expect((await uploadWith(count, t.dmGrant.token, fakePng(600))).status).toBe(201);
    await refused(await uploadWith(count, t.dmGrant.token, PNG_1X1), "participant_upload_count", 2);
    expect((await uploadWith(count, t.playerGrant.token, fakePng(1500), asPlayer)).status).toBe(201);

    await refused(
      await uploadWith({ UPLOAD_MAX_BYTES_PER_PARTICIPANT: "2000" }, t.playerGrant.token, fakePng(600), asPlayer),
      "participant_upload_bytes",
      2000,
    );
    await refused(await uploadWith({ SESSION_MAX_ASSETS: "3" }, t.dmGrant.token, PNG_1X1), "session_asset_count", 3);
    const bytes = 600 + 600 + 1500;
    await refused(await uploadWith({ SESSION_MAX_ASSET_BYTES: String(bytes + 100) }, t.dmGrant.token, fakePng(200)), "session_asset_bytes", bytes + 100);
    expect((await uploadWith({ SESSION_MAX_ASSET_BYTES: String(bytes + 100) }, t.dmGrant.token, PNG_1X1)).status).toBe(201);
    expect(await rowsOf(sid)).toBe(4);
    expect(await objectsOf(sid)).toHaveLength(4);

    // Deleting assets makes room.
    const [newest] = (await t.dm.ok({ type: "ListAssets" })).items;
    await t.dm.ok({ type: "DeleteAsset", asset_id: newest.id });
    expect((await uploadWith({ SESSION_MAX_ASSETS: "4" }, t.dmGrant.token, PNG_1X1)).status).toBe(201);
    t.close();
  });

  it("concurrent uploads cannot overshoot a quota: it is checked again when the row is written, and the refused leave no object", async () => {
    const t = await table();
    const sid = t.dmGrant.session_id;
    const run = runInDurableObject as unknown as (s: unknown, f: (i: any) => void) => Promise<void>;
    await run(sessionStub(env, sid), (instance) => void Object.assign(instance.limits, { sessionMaxAssets: 2 }));
    const results = await Promise.all(Array.from({ length: 6 }, () => uploadRaw(t.dmGrant.token, PNG_1X1)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 413, 413, 413, 413]);
    for (const r of results.filter((x) => x.status === 413)) expect(await r.json()).toMatchObject({ details: { reason: "session_asset_count", limit: 2 } });
    expect(await rowsOf(sid)).toBe(2);
    expect(await objectsOf(sid)).toHaveLength(2);
    t.close();
  });
});

describe("GET /assets/:id", () => {
  it("serves with ETag, nosniff and a Cache-Control matching the expiry; If-None-Match → 304; Range → 206", async () => {
    const { token } = await createSession();
    const bytes = fakePng(1000);
    const { url, url_expires_at } = await uploadImage({ token }, bytes);
    const res = await download(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1]);
    expect(Math.abs(maxAge - (url_expires_at - Math.floor(Date.now() / 1000)))).toBeLessThanOrEqual(2);
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"/);
    await res.arrayBuffer();

    const cached = await download(url, { "if-none-match": etag });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);

    const part = await download(url, { range: "bytes=0-7" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 0-7/1000");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(0, 8));
  });

  it("refuses unsigned (401), tampered or foreign (403) and expired (401) URLs", async () => {
    const a = await createSession();
    const b = await createSession();
    const { asset, url } = await uploadImage(a);
    const u = new URL(url, BASE);
    const variant = (edit: (p: URLSearchParams) => void) => {
      const v = new URL(u);
      edit(v.searchParams);
      return `${v.pathname}${v.search}`;
    };
    expect((await download(`/assets/${asset.id}`)).status).toBe(401);
    expect(
      (
        await download(
          variant((p) =>
            p.set(
              "sig",
              p.get("sig")!.replace(/^./, (c) => (c === "A" ? "B" : "A")),
            ),
          ),
        )
      ).status,
    ).toBe(403);
    expect((await download(variant((p) => p.set("exp", String(Number(p.get("exp")) + 3600))))).status).toBe(403);
    expect((await download(variant((p) => p.set("s", b.session_id)))).status).toBe(403);
    // Another asset's signature does not open this one.
    const other = await uploadImage(a);
    const otherSig = new URL(other.url, BASE).searchParams.get("sig")!;
    expect((await download(variant((p) => p.set("sig", otherSig)))).status).toBe(403);
    const expired = await signAssetUrl(SECRET, a.session_id, asset.id, 60, Date.now() - 3 * 3600_000);
    const res = await download(expired.url);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "UNAUTHENTICATED", details: { reason: "expired" } });
    // A URL signed for session B's copy of the id finds nothing there.
    const foreign = await signAssetUrl(SECRET, b.session_id, asset.id, 60);
    expect((await download(foreign.url)).status).toBe(404);
  });
});

describe("asset operations", () => {
  it("ListAssets and GetAsset give fresh URLs; UpdateAsset edits label, tags, depicts", async () => {
    const t = await table();
    const { asset } = await uploadImage(t.dmGrant, PNG_1X1, { label: "first" });
    const list = await t.player.ok({ type: "ListAssets" });
    expect(list.items.map((a: any) => a.id)).toEqual([asset.id]);
    expect((await download(list.items[0].url)).status).toBe(200);
    const got = await t.spectator.ok({ type: "GetAsset", asset_id: asset.id });
    expect(got).toMatchObject({ id: asset.id, label: "first" });
    expect(got.url_expires_at).toBeGreaterThan(Date.now() / 1000);
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    expect((await t.player.request({ type: "UpdateAsset", asset_id: asset.id, data: { label: "x" } })).code).toBe("FORBIDDEN");
    expect((await t.dm.request({ type: "UpdateAsset", asset_id: asset.id, data: { depicts: { kind: "character", id: "nope" } } })).code).toBe("NOT_FOUND");
    const updated = await t.dm.ok({
      type: "UpdateAsset",
      asset_id: asset.id,
      data: { label: "Mira", tags: ["npc"], depicts: { kind: "character", id: npc.id } },
      expected_version: 1,
    });
    expect(updated).toMatchObject({ label: "Mira", tags: ["npc"], depicts: { kind: "character", id: npc.id }, version: 2 });
    await t.player.waitFor(ev("AssetUpdated", (e) => e.asset.version === 2));
    expect((await t.player.ok({ type: "ListAssets", depicts_kind: "character", depicts_id: npc.id })).items).toHaveLength(1);
    expect((await t.player.ok({ type: "ListAssets", depicts_kind: "scene" })).items).toHaveLength(0);

    // Which character an image shows is DM knowledge: it could be a hidden NPC.
    const shadow = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow", hidden: true } });
    await t.dm.ok({ type: "UpdateAsset", asset_id: asset.id, data: { depicts: { kind: "character", id: shadow.id } } });
    const seen = await t.player.waitFor(ev("AssetUpdated", (e) => e.asset.version === 3));
    expect(seen.event.asset.depicts).toBeNull();
    expect((await t.dm.waitFor(ev("AssetUpdated", (e) => e.asset.version === 3))).event.asset.depicts).toEqual({ kind: "character", id: shadow.id });
    expect((await t.player.ok({ type: "GetAsset", asset_id: asset.id })).depicts).toBeNull();
    expect((await t.player.ok({ type: "ListAssets" })).items[0].depicts).toBeNull();
    expect((await t.player.request({ type: "ListAssets", depicts_kind: "character", depicts_id: shadow.id })).code).toBe("NOT_FOUND");
    expect(JSON.stringify(t.player.events())).not.toContain(shadow.id);
    t.close();
  });

  it("a player's ListAssets never finds a hidden NPC's image by any combination of filters", async () => {
    const t = await table();
    const shadow = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow", hidden: true } });
    const mira = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const hidden = (await uploadImage(t.dmGrant, PNG_1X1, { entity_kind: "character", entity_id: shadow.id })).asset;
    const shown = (await uploadImage(t.dmGrant, PNG_1X1, { entity_kind: "character", entity_id: mira.id })).asset;
    const ids = async (s: TestSocket, p: Record<string, unknown>) => (await s.ok({ type: "ListAssets", ...p })).items.map((a: any) => a.id);
    for (const s of [t.player, t.spectator]) {
      expect(await ids(s, { depicts_id: shadow.id })).toEqual([]);
      expect(await ids(s, { depicts_kind: "character" })).toEqual([shown.id]);
      expect(await ids(s, { depicts_id: mira.id })).toEqual([shown.id]);
      expect((await s.request({ type: "ListAssets", depicts_kind: "character", depicts_id: shadow.id })).code).toBe("NOT_FOUND");
    }
    expect(await ids(t.dm, { depicts_id: shadow.id })).toEqual([hidden.id]);
    expect(await ids(t.dm, { depicts_kind: "character" })).toEqual([shown.id, hidden.id]);
    // Revealed, the NPC's image is found like any other.
    await t.dm.ok({ type: "UpdateCharacter", character_id: shadow.id, data: { hidden: false } });
    expect(await ids(t.player, { depicts_id: shadow.id })).toEqual([hidden.id]);
    t.close();
  });

  it("SetEntityImage sets portraits, sprites and backdrops; every asset reference is checked", async () => {
    const t = await table();
    const { asset } = await uploadImage(t.dmGrant);
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const scene = await t.dm.ok({ type: "CreateScene", data: { name: "Night" } });
    const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Inn" } });
    await t.dm.ok({ type: "SetEntityImage", entity: { kind: "character", id: npc.id }, image: "portrait", asset_id: asset.id });
    expect((await t.player.waitFor(ev("CharacterUpdated"))).event.character).toMatchObject({ id: npc.id, portrait_asset_id: asset.id });
    await t.dm.ok({ type: "SetEntityImage", entity: { kind: "scene", id: scene.id }, image: "backdrop", asset_id: asset.id });
    expect((await t.player.waitFor(ev("SceneUpdated"))).event.scene.backdrop_asset_id).toBe(asset.id);
    await t.dm.ok({ type: "SetEntityImage", entity: { kind: "location", id: location.id }, image: "map", asset_id: asset.id });
    expect((await t.dm.request({ type: "SetEntityImage", entity: { kind: "scene", id: scene.id }, image: "portrait", asset_id: asset.id })).code).toBe(
      "VALIDATION_ERROR",
    );
    expect((await t.dm.request({ type: "SetEntityImage", entity: { kind: "character", id: npc.id }, image: "sprite", asset_id: "missing" })).code).toBe(
      "NOT_FOUND",
    );
    expect((await t.player.request({ type: "SetEntityImage", entity: { kind: "character", id: npc.id }, image: "sprite", asset_id: asset.id })).code).toBe(
      "FORBIDDEN",
    );
    for (const payload of [
      { type: "CreateCharacter", data: { kind: "npc", name: "X", portrait_asset_id: "missing" } },
      { type: "UpdateCharacter", character_id: npc.id, data: { sprite_asset_id: "missing" } },
      { type: "CreateLocation", data: { name: "X", map_asset_id: "missing" } },
      { type: "UpdateScene", scene_id: scene.id, data: { backdrop_asset_id: "missing" } },
      { type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: "missing" },
    ]) {
      const r = await t.dm.request(payload);
      expect(r.code, payload.type).toBe("NOT_FOUND");
      expect(r.message).toContain("asset 'missing'");
    }
    t.close();
  });

  it("DeleteAsset removes the object and clears every reference with the entities' Updated events", async () => {
    const t = await table();
    const { asset, url } = await uploadImage(t.dmGrant);
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", portrait_asset_id: asset.id, sprite_asset_id: asset.id } });
    const scene = await t.dm.ok({ type: "CreateScene", data: { name: "Night", backdrop_asset_id: asset.id } });
    expect((await t.player.request({ type: "DeleteAsset", asset_id: asset.id })).code).toBe("FORBIDDEN");
    const from = t.player.frames.length;
    await t.dm.ok({ type: "DeleteAsset", asset_id: asset.id });
    const deleted = await t.player.waitFor(ev("AssetDeleted"), 5000, from);
    expect(deleted.event.asset_id).toBe(asset.id);
    const c = await t.player.waitFor(
      ev("CharacterUpdated", (e) => e.character.id === npc.id),
      5000,
      from,
    );
    expect(c.event.character).toMatchObject({ portrait_asset_id: null, sprite_asset_id: null });
    expect((await t.player.waitFor(ev("SceneUpdated"), 5000, from)).event.scene).toMatchObject({ id: scene.id, backdrop_asset_id: null });
    expect(c.seq).toBeLessThan(deleted.seq);
    await settle(50);
    expect(await objectsOf(t.dmGrant.session_id)).toHaveLength(0);
    expect((await download(url)).status).toBe(404);
    expect((await t.dm.request({ type: "GetAsset", asset_id: asset.id })).code).toBe("NOT_FOUND");
    t.close();
  });

  it("ExportWorld carries asset metadata; an import gets new ids, rewritten references, and a copy of the bytes only within its own session", async () => {
    const a = await table();
    const { asset } = await uploadImage(a.dmGrant, PNG_1X1, { label: "Mira" });
    const npc = await a.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", portrait_asset_id: asset.id } });
    const doc = await a.dm.ok({ type: "ExportWorld" });
    expect(doc.assets).toEqual([expect.objectContaining({ id: asset.id, label: "Mira", sha256: asset.sha256 })]);
    // An asset of another deployment: metadata only, its references kept, no bytes.
    const foreign = { ...asset, id: "from-elsewhere", sha256: "0".repeat(64) };
    const withForeign = {
      ...doc,
      assets: [...doc.assets, foreign],
      characters: [...doc.characters, { ...doc.characters[0], id: "npc-2", sprite_asset_id: "from-elsewhere", portrait_asset_id: "not-in-document" }],
    };

    const b = await createSession();
    const dmB = await TestSocket.open(b);
    await dmB.join();
    const imported = await dmB.ok({ type: "ImportWorld", document: withForeign });
    expect(imported.counts).toMatchObject({ characters: 2 });
    const list = (await dmB.ok({ type: "ListAssets" })).items;
    expect(list).toHaveLength(2);
    expect(list.every((x: any) => x.source === "import" && x.id !== asset.id && x.id !== "from-elsewhere")).toBe(true);
    const chars = (await dmB.ok({ type: "ListCharacters" })).items;
    const mira = chars.find((c: any) => c.name === "Mira" && c.portrait_asset_id);
    const copy = list.find((x: any) => x.sha256 === asset.sha256);
    expect(mira.portrait_asset_id).toBe(copy.id);
    const second = chars.find((c: any) => c.sprite_asset_id);
    expect(second.portrait_asset_id).toBeNull();
    expect(npc.portrait_asset_id).toBe(asset.id);

    // The same document imported back into its own session (replace): the bytes are copied.
    await a.dm.ok({ type: "ImportWorld", document: doc, mode: "replace" });
    const [again] = (await a.dm.ok({ type: "ListAssets" })).items;
    expect(again).toMatchObject({ source: "import", sha256: asset.sha256 });
    expect(again.id).not.toBe(asset.id);
    await vi.waitFor(async () => expect((await download(again.url)).status).toBe(200));
    expect(new Uint8Array(await (await download(again.url)).arrayBuffer())).toEqual(PNG_1X1);

    // Another session's id and sha256 (players see both) are no key to its bytes: B got nothing
    // (checked after A's own copy, made later, has landed).
    expect(await objectsOf(b.session_id)).toEqual([]);
    expect((await download(copy.url)).status).toBe(404);
    expect((await download(list.find((x: any) => x.sha256 !== asset.sha256).url)).status).toBe(404);
    a.close();
    dmB.close();
  });

  it("the demo world gets its portraits and backdrop through the real upload route", async () => {
    const t = await table();
    const { npcs } = await seedAsDm((p) => t.dm.ok(p));
    await seedImages(
      (p) => t.dm.ok(p),
      (bytes, o) => uploadImage(t.dmGrant, bytes, { label: o.label, entity_kind: o.entity.kind, entity_id: o.entity.id, image: o.image }),
      npcs,
    );
    expect((await t.dm.ok({ type: "ListAssets" })).items).toHaveLength(3);
    expect((await t.dm.ok({ type: "GetCharacter", character_id: npcs.mira })).portrait_asset_id).toBeTruthy();
    expect((await t.dm.ok({ type: "GetActiveScene" })).scene.backdrop_asset_id).toBeTruthy();
    t.close();
  });
});
