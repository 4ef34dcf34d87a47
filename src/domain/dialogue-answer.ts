/** The line that starts the DM-only part of an answer (dialogue.response_format asks for it). */
export const DM_MARKER = "[DM]";

/**
 * What starts the DM-only part, however the model spells it (case-insensitive): `[DM]`, `[dm]`,
 * `[ Dm ]`, `[DM notes]`, `[DM: …]` anywhere; `DM:`, `dm:`, `**DM:**`, `> DM notes:` at a line's
 * start. Not `[Dmitri]` nor `Dmitri:` (a letter after `dm` is a name, not a marker).
 */
const MARKER = /\[[ \t]*dm(?![a-z])[^\]\n]{0,40}\]|\n[ \t\r>*_#]*dm(?:[ \t]+[a-z]+)?[ \t*_]*:/i;
/** From a `[`: could still become a bracket marker. */
const BRACKET_PREFIX = /^\[[ \t]*(?:d(?:m(?![a-z])[^\]\n]{0,40})?)?$/i;
/** From a line's start: could still become a line marker. */
const LINE_PREFIX = /^[ \t\r>*_#]*(?:d(?:m(?:[ \t]+[a-z]*)?[ \t*_]*)?)?$/i;
/** The longest tail held back while it might still become a marker. */
const MAX_HELD = 64;

/**
 * Splits a streamed answer into what the NPC says (forwarded as it comes) and the reasons for the
 * DM after the marker (never streamed). A tail that might be the start of a marker is held back
 * until the next delta tells, so a marker split across deltas never leaks.
 */
export class AnswerSplitter {
  private said = "";
  private held = "";
  private dm: string | null = null;
  /** The next character shown starts a line (the answer's start counts as one). */
  private lineStart = true;

  /** Takes a delta; returns the part that may be shown now. */
  push(delta: string): string {
    if (this.dm !== null) {
      this.dm += delta;
      return "";
    }
    const buf = this.held + delta;
    const off = this.lineStart ? 1 : 0;
    const m = MARKER.exec((this.lineStart ? "\n" : "") + buf);
    if (m) {
      this.dm = buf.slice(m.index - off + m[0].length);
      this.held = "";
      return this.keep(buf.slice(0, Math.max(0, m.index - off)));
    }
    // Hold back the earliest recent tail that could still become a marker.
    let hold = buf.length;
    for (let i = Math.max(0, buf.length - MAX_HELD); i < buf.length; i++) {
      const tail = buf.slice(i);
      const atLine = i === 0 ? this.lineStart : buf[i - 1] === "\n";
      if ((buf[i] === "[" && BRACKET_PREFIX.test(tail)) || (atLine && LINE_PREFIX.test(tail))) {
        hold = i;
        break;
      }
    }
    this.held = buf.slice(hold);
    return this.keep(buf.slice(0, hold));
  }

  /** The end of the stream: what is left to show, and the whole answer. */
  finish(): { rest: string; text: string; reasoning: string | null } {
    const rest = this.keep(this.held);
    this.held = "";
    return { rest, text: this.said.trim(), reasoning: this.dm?.replace(/^[\s*_]+/, "").trim() || null };
  }

  private keep(s: string): string {
    this.said += s;
    if (s) this.lineStart = s.endsWith("\n");
    return s;
  }
}
