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

/** Presence checks in a row, each overtaken by a commit, before an answer stops streaming to players. */
const MAX_CHECKS = 3;

/** Where an answer's words go (a job's ServerStream). */
export interface AnswerSink {
  send(delta: string): void;
  toDmsOnly(): void;
}

/**
 * Forwards the words of an answer to its stream, bounded and watched:
 * - at most `maxFrames` frames: past that, the words are kept and sent as one last frame by
 *   `finish` (the final text comes in NpcSpeaks anyway), so an answer costs other players a
 *   bounded number of frames whatever the provider's delta size;
 * - while players hear it, after any commit of the session (`seq()` moved) the words wait until
 *   `playersMayHear()` says the NPC is still there for them; once it is not (hidden, staged away),
 *   the stream goes on for DMs only (`toDmsOnly`), for good.
 */
export class AnswerStream {
  private queue: string[] = [];
  private running = false;
  private pumped: Promise<void> = Promise.resolve();
  private frames = 0;
  private held = "";
  private checkedSeq: number;
  private players: boolean;

  constructor(
    private readonly sink: AnswerSink,
    private readonly opts: { maxFrames: number; playersHear: boolean; seq: () => number; playersMayHear: () => Promise<boolean> },
  ) {
    // -1: the first words wait for a first look (the NPC may have left before the job ran).
    this.checkedSeq = -1;
    this.players = opts.playersHear;
  }

  /** Whether players still hear this answer. */
  get toPlayers(): boolean {
    return this.players;
  }

  push(delta: string): void {
    if (!delta) return;
    this.queue.push(delta);
    if (!this.running) this.pumped = this.pump();
  }

  /** Waits for the words pushed so far; then sends what the frame cap held back, as one frame. */
  async finish(): Promise<void> {
    while (this.running || this.queue.length) {
      if (!this.running) this.pumped = this.pump();
      await this.pumped;
    }
    if (this.held) this.sink.send(this.held);
    this.held = "";
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        if (this.players && this.opts.seq() !== this.checkedSeq) {
          // A check overtaken by another commit proves nothing about that commit: look again, but
          // at most MAX_CHECKS times in a row — a session that busy streams to DMs only (safe).
          let hear = true;
          for (let i = 0; hear && this.opts.seq() !== this.checkedSeq; i++) {
            const seq = this.opts.seq();
            hear = i < MAX_CHECKS && (await this.opts.playersMayHear().catch(() => false));
            this.checkedSeq = seq;
          }
          if (!hear) {
            this.players = false;
            this.sink.toDmsOnly();
          }
        }
        const text = this.queue.join("");
        this.queue = [];
        // The last frame of the cap is kept for finish: what comes after it goes there too.
        if (this.frames < this.opts.maxFrames - 1) {
          this.frames++;
          this.sink.send(text);
        } else this.held += text;
      }
    } finally {
      this.running = false;
    }
  }
}
