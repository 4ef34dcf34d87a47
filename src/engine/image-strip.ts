import { AppError } from "../protocol";
import type { ImageType } from "./image-sniff";

/**
 * Removes what an image carries besides its pixels before it is stored (uploads and generated
 * images alike), so that nothing written into it — a ComfyUI prompt and workflow, EXIF with GPS
 * and camera, XMP, comments, thumbnails — reaches whoever may download it. Only what a decoder
 * needs to draw it right is kept, by a list of what is allowed (anything unknown goes):
 *
 * - PNG: the critical chunks (IHDR, PLTE, IDAT, IEND, and any other whose name starts upper-case)
 *   and the ancillary chunks that change how it looks (tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, bKGD,
 *   pHYs, cICP, and APNG's acTL, fcTL, fdAT). Gone: tEXt, iTXt, zTXt, eXIf, tIME and the rest.
 *   Nothing after IEND.
 * - JPEG: every segment but APP0 (JFIF and its thumbnail), APP1 (EXIF, XMP), APP3–APP13, APP15
 *   and COM; APP2 is kept only as an ICC profile, APP14 only as Adobe's (colour transform). An
 *   EXIF orientation other than 1 is kept as a new, minimal EXIF holding nothing else (browsers
 *   turn photos by it). Nothing after EOI.
 * - WebP: VP8, VP8L, VP8X, ALPH, ANIM, ANMF and ICCP chunks; EXIF, XMP and unknown chunks go (and
 *   VP8X's flags for them are cleared).
 * - GIF: comment and plain-text extensions and application extensions other than the looping ones
 *   (NETSCAPE2.0, ANIMEXTS1.0) go. Nothing after the trailer.
 *
 * An image whose structure cannot be walked (a chunk or segment running past the end) is refused:
 * VALIDATION_ERROR with `details.reason: "malformed_image"`. One that merely stops early at a
 * boundary (no IEND/EOI/trailer) is kept as far as it goes.
 */
export function stripMetadata(type: ImageType, b: Uint8Array): Uint8Array {
  switch (type) {
    case "image/png":
      return stripPng(b);
    case "image/jpeg":
      return stripJpeg(b);
    case "image/webp":
      return stripWebp(b);
    case "image/gif":
      return stripGif(b);
  }
}

const malformed = (type: string, why: string) =>
  new AppError("VALIDATION_ERROR", `the ${type} image is malformed: ${why}`, { reason: "malformed_image", type });

const u16be = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u32be = (b: Uint8Array, at: number) => ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
const u32le = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + ((b[at + 3]! << 24) >>> 0);
const tag = (b: Uint8Array, at: number, n = 4) => String.fromCharCode(...b.subarray(at, at + n));

/** A kept range of the input, or bytes made anew (JPEG's minimal EXIF). */
type Part = [number, number] | Uint8Array;

/** The kept parts, joined (the input itself when nothing was dropped or added). */
function join(b: Uint8Array, parts: Part[]): Uint8Array {
  const bytes = (p: Part) => (p instanceof Uint8Array ? p : b.subarray(p[0], p[1]));
  const total = parts.reduce((s, p) => s + bytes(p).length, 0);
  if (total === b.length && parts.every((p) => !(p instanceof Uint8Array))) return b;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(bytes(p), at);
    at += bytes(p).length;
  }
  return out;
}

/** Appends [from, to), merged with the previous part when adjacent. */
function keep(parts: Part[], from: number, to: number): void {
  const last = parts[parts.length - 1];
  if (last && !(last instanceof Uint8Array) && last[1] === from) last[1] = to;
  else parts.push([from, to]);
}

const PNG_KEEP = new Set(["tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "cICP", "acTL", "fcTL", "fdAT"]);

function stripPng(b: Uint8Array): Uint8Array {
  const parts: Part[] = [[0, 8]];
  let at = 8;
  while (at < b.length) {
    if (at + 8 > b.length) throw malformed("PNG", `a chunk header is cut off at byte ${at}`);
    const len = u32be(b, at);
    const type = tag(b, at + 4);
    const end = at + 12 + len;
    if (end > b.length) throw malformed("PNG", `chunk '${type}' runs past the end`);
    const critical = b[at + 4]! >= 0x41 && b[at + 4]! <= 0x5a;
    if (critical || PNG_KEEP.has(type)) keep(parts, at, end);
    at = end;
    if (type === "IEND") break;
  }
  return join(b, parts);
}

/**
 * The EXIF orientation (1–8) of an APP1 segment whose body starts at `at` and ends at `end`, if it
 * has one: browsers turn photos by it, so it alone survives the stripping.
 */
function exifOrientation(b: Uint8Array, at: number, end: number): number | null {
  if (tag(b, at, 6) !== "Exif\0\0") return null;
  const t = at + 6;
  if (t + 8 > end) return null;
  const little = tag(b, t, 2) === "II";
  if (!little && tag(b, t, 2) !== "MM") return null;
  const v = new DataView(b.buffer, b.byteOffset);
  const ifd = t + v.getUint32(t + 4, little);
  if (ifd + 2 > end || ifd < t + 8) return null;
  const n = v.getUint16(ifd, little);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > end) return null;
    if (v.getUint16(e, little) === 0x0112 && v.getUint16(e + 2, little) === 3) {
      const o = v.getUint16(e + 8, little);
      return o >= 1 && o <= 8 ? o : null;
    }
  }
  return null;
}

/** An APP1 segment holding a big-endian EXIF with one entry: the orientation. */
function orientationSegment(o: number): Uint8Array {
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0];
  return Uint8Array.from([0xff, 0xe1, 0, body.length + 2, ...body]);
}

function stripJpeg(b: Uint8Array): Uint8Array {
  const parts: Part[] = [[0, 2]];
  let oriented = false;
  let at = 2;
  while (at < b.length) {
    if (b[at] !== 0xff) throw malformed("JPEG", `no marker at byte ${at}`);
    // Fill bytes (0xFF repeated) before a marker.
    while (b[at + 1] === 0xff) at++;
    if (at + 1 >= b.length) break;
    const marker = b[at + 1]!;
    if (marker === 0xd9) {
      keep(parts, at, at + 2);
      break;
    }
    // Markers without a length: TEM, RSTn.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      keep(parts, at, at + 2);
      at += 2;
      continue;
    }
    if (at + 4 > b.length) throw malformed("JPEG", `a segment header is cut off at byte ${at}`);
    const end = at + 2 + u16be(b, at + 2);
    if (end > b.length || end < at + 4) throw malformed("JPEG", `segment 0xFF${marker.toString(16).toUpperCase()} runs past the end`);
    const isApp = marker >= 0xe0 && marker <= 0xef;
    const dropped =
      marker === 0xfe || (isApp && !(marker === 0xe2 && tag(b, at + 4, 12) === "ICC_PROFILE\0") && !(marker === 0xee && tag(b, at + 4, 5) === "Adobe"));
    if (!dropped) keep(parts, at, end);
    else if (marker === 0xe1 && !oriented) {
      const o = exifOrientation(b, at + 4, end);
      if (o !== null && o !== 1) {
        parts.push(orientationSegment(o));
        oriented = true;
      }
    }
    at = end;
    if (marker === 0xda) {
      // Entropy-coded data up to the next marker that is neither a stuffed 0xFF00 nor RSTn.
      let i = at;
      for (;;) {
        i = b.indexOf(0xff, i);
        if (i < 0 || i + 1 >= b.length) {
          i = b.length;
          break;
        }
        const next = b[i + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) i += next === 0xff ? 1 : 2;
        else break;
      }
      keep(parts, at, i);
      at = i;
    }
  }
  return join(b, parts);
}

const WEBP_KEEP = new Set(["VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF", "ICCP"]);

function stripWebp(b: Uint8Array): Uint8Array {
  const parts: Part[] = [[0, 12]];
  let vp8x = -1;
  let at = 12;
  while (at < b.length) {
    if (at + 8 > b.length) throw malformed("WebP", `a chunk header is cut off at byte ${at}`);
    const type = tag(b, at);
    const len = u32le(b, at + 4);
    const end = at + 8 + len + (len & 1);
    if (at + 8 + len > b.length) throw malformed("WebP", `chunk '${type}' runs past the end`);
    if (WEBP_KEEP.has(type)) {
      if (type === "VP8X") vp8x = at;
      keep(parts, at, Math.min(end, b.length));
    }
    at = end;
  }
  const out = join(b, parts);
  const copy = out === b ? b.slice() : out;
  // The RIFF size is what follows it; VP8X's EXIF (bit 3) and XMP (bit 2) flags say nothing is left.
  new DataView(copy.buffer, copy.byteOffset).setUint32(4, copy.length - 8, true);
  if (vp8x >= 0) {
    const pos = offsetAfterJoin(parts, vp8x);
    if (pos + 8 < copy.length) copy[pos + 8] = copy[pos + 8]! & ~0x0c;
  }
  return copy;
}

/** Where byte `at` of the input lands in the joined output (it must be in a kept part). */
function offsetAfterJoin(parts: Part[], at: number): number {
  let out = 0;
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      out += p.length;
      continue;
    }
    const [from, to] = p;
    if (at >= from && at < to) return out + at - from;
    out += to - from;
  }
  return -1;
}

const GIF_KEEP_APPS = new Set(["NETSCAPE2.0", "ANIMEXTS1.0"]);

function stripGif(b: Uint8Array): Uint8Array {
  if (b.length < 13) return b;
  const flags = b[10]!;
  let at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  if (at > b.length) throw malformed("GIF", "the global colour table runs past the end");
  const parts: Part[] = [[0, at]];
  /** The end of the sub-blocks starting at `i` (after their 0 terminator). */
  const subBlocks = (i: number) => {
    while (i < b.length && b[i] !== 0) i += 1 + b[i]!;
    if (i >= b.length) throw malformed("GIF", "data sub-blocks run past the end");
    return i + 1;
  };
  while (at < b.length) {
    const intro = b[at]!;
    if (intro === 0x3b) {
      keep(parts, at, at + 1);
      break;
    }
    if (intro === 0x2c) {
      if (at + 10 > b.length) throw malformed("GIF", "an image descriptor is cut off");
      const f = b[at + 9]!;
      const start = at + 10 + (f & 0x80 ? 3 * 2 ** ((f & 7) + 1) : 0);
      const end = subBlocks(start + 1);
      keep(parts, at, end);
      at = end;
      continue;
    }
    if (intro === 0x21) {
      if (at + 2 > b.length) throw malformed("GIF", "an extension is cut off");
      const label = b[at + 1]!;
      const end = subBlocks(at + 2);
      const app = label === 0xff && b[at + 2] === 11 ? tag(b, at + 3, 11) : null;
      if (label === 0xf9 || (app !== null && GIF_KEEP_APPS.has(app))) keep(parts, at, end);
      at = end;
      continue;
    }
    throw malformed("GIF", `unknown block 0x${intro.toString(16)} at byte ${at}`);
  }
  return join(b, parts);
}
