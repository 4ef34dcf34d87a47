import type { LlmProvider, LlmRequest } from "./types";

/** Gestures the offline NPC picks from (by a hash of the words: the same words, the same answer). */
const GESTURES = ["tilts their head", "nods slowly", "frowns thoughtfully", "smiles", "glances around", "crosses their arms"];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The offline answer: deterministic, built from the NPC and the player's words. */
export function offlineAnswer(p: LlmRequest["persona"]): string {
  const words = p.words.trim().replace(/\s+/g, " ");
  const quoted = words.length > 80 ? `${words.slice(0, 77)}…` : words;
  const gesture = GESTURES[hash(`${p.name}\n${words}`) % GESTURES.length];
  const who = p.description.trim() ? ` ${p.description.trim().split(/(?<=[.!?])\s/)[0]}` : "";
  return `*${gesture}* "${quoted}", you say? I am ${p.name}.${who} (offline: no language model is connected.)`;
}

/**
 * The local stand-in for a model: the same streaming path as a real provider, with a deterministic
 * answer, labelled `provider: "offline"` wherever the answer is shown.
 */
export function offlineProvider(opts: { delayMs?: number } = {}): LlmProvider {
  const delay = opts.delayMs ?? 15;
  return {
    name: "offline",
    model: "offline-echo",
    async *stream(req: LlmRequest, signal: AbortSignal) {
      for (const piece of offlineAnswer(req.persona).match(/\S+\s*/g) ?? []) {
        if (signal.aborted) throw signal.reason;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        yield piece;
      }
    },
  };
}
