/** The line that starts the DM-only part of an answer (dialogue.response_format asks for it). */
export const DM_MARKER = "[DM]";

/**
 * Splits a streamed answer into what the NPC says (forwarded as it comes) and the reasons for the
 * DM after the `[DM]` marker (never streamed). A delta that might be the start of the marker is
 * held back until the next one tells.
 */
export class AnswerSplitter {
  private said = "";
  private held = "";
  private dm: string | null = null;

  /** Takes a delta; returns the part that may be shown now. */
  push(delta: string): string {
    if (this.dm !== null) {
      this.dm += delta;
      return "";
    }
    const buf = this.held + delta;
    const at = buf.indexOf(DM_MARKER);
    if (at >= 0) {
      this.dm = buf.slice(at + DM_MARKER.length);
      this.held = "";
      return this.keep(buf.slice(0, at));
    }
    // Hold back the longest tail that is a prefix of the marker.
    let hold = 0;
    for (let n = Math.min(DM_MARKER.length - 1, buf.length); n > 0; n--) {
      if (DM_MARKER.startsWith(buf.slice(buf.length - n))) {
        hold = n;
        break;
      }
    }
    this.held = buf.slice(buf.length - hold);
    return this.keep(buf.slice(0, buf.length - hold));
  }

  /** The end of the stream: what is left to show, and the whole answer. */
  finish(): { rest: string; text: string; reasoning: string | null } {
    const rest = this.keep(this.held);
    this.held = "";
    return { rest, text: this.said.trim(), reasoning: this.dm?.trim() || null };
  }

  private keep(s: string): string {
    this.said += s;
    return s;
  }
}
