import { encodePng } from "./png";
import type { ImageJob, ImageProvider } from "./provider";

/** 3×5 glyphs of the label every placeholder carries, so nobody mistakes one for real art. */
const GLYPHS: Record<string, string[]> = {
  O: ["111", "101", "101", "101", "111"],
  F: ["111", "100", "110", "100", "100"],
  L: ["100", "100", "100", "100", "111"],
  I: ["111", "010", "010", "010", "111"],
  N: ["101", "111", "111", "111", "101"],
  E: ["111", "100", "110", "100", "111"],
};
const LABEL = "OFFLINE";
/** Placeholders stay small whatever size was asked for. */
const MAX_SIDE = 256;

/** FNV-1a: a stable number from the prompt, so the same request gives the same picture. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A deterministic placeholder: a two-colour gradient from the prompt and seed, labelled OFFLINE. */
export async function placeholderPng(job: ImageJob): Promise<Uint8Array> {
  const scale = Math.min(1, MAX_SIDE / Math.max(job.width, job.height));
  const w = Math.max(16, Math.round(job.width * scale));
  const h = Math.max(16, Math.round(job.height * scale));
  const a = hash(`${job.prompt}|${job.seed}`);
  const b = hash(`${job.seed}|${job.prompt}|b`);
  const c1 = [a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff];
  const c2 = [b & 0xff, (b >> 8) & 0xff, (b >> 16) & 0xff];
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = (x + y) / (w + h);
      for (let k = 0; k < 3; k++) rgb[(y * w + x) * 3 + k] = Math.round(c1[k]! * (1 - t) + c2[k]! * t);
    }
  }
  const px = Math.max(1, Math.floor(w / (LABEL.length * 4 + 2)));
  [...LABEL].forEach((ch, i) => {
    GLYPHS[ch]!.forEach((row, gy) =>
      [...row].forEach((bit, gx) => {
        if (bit !== "1") return;
        for (let dy = 0; dy < px; dy++) {
          for (let dx = 0; dx < px; dx++) {
            const x = px + (i * 4 + gx) * px + dx;
            const y = px + gy * px + dy;
            if (x < w && y < h) rgb.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
          }
        }
      }),
    );
  });
  return encodePng(w, h, rgb, { Title: "WrldBldr offline placeholder", Description: job.prompt, Software: "wrldbldr offline image provider" });
}

/** IMAGE_PROVIDER=offline (the local default): every image is ready at once, made on the spot. */
export const offlineProvider: ImageProvider = {
  name: "offline",
  async submit() {},
  async poll(_promptId, job) {
    return { state: "done", bytes: await placeholderPng(job) };
  },
  async cancel() {},
};
