import type { ServerStream } from "../engine/context";
import { DMS, NON_DMS, type Audience } from "../engine/tx";

/** Sends one serialized frame to every joined socket of the audience (through the outbound budget). */
export type AudienceSender = (audience: Audience, frame: string) => void;

/**
 * `Stream` frames by id (DESIGN.md §7): `send(delta)` in order, `end()` once, always with
 * `done: true`. Live only: nothing is stored, so a client that reconnects mid-stream gets the
 * final text from the committed event that ends the work, not the frames it missed.
 */
export class OutboundStream implements ServerStream {
  private index = 0;
  private done = false;

  constructor(
    readonly id: string,
    private audience: Audience,
    private readonly deliver: AudienceSender,
  ) {}

  get ended(): boolean {
    return this.done;
  }

  send(delta: string): void {
    if (this.done || delta === "") return;
    this.frame(delta, false);
  }

  /**
   * Non-DMs get their last frame now, at the next index; DMs go on from that same index (each
   * client still sees 0, 1, 2, … without a gap). A `some` audience ends for every non-DM socket
   * (the audience cannot tell a listed player from a DM).
   */
  toDmsOnly(): void {
    if (this.done || this.audience.kind === "dm") return;
    this.deliver(NON_DMS, JSON.stringify({ type: "Stream", stream_id: this.id, index: this.index, delta: "", done: true }));
    this.audience = DMS;
  }

  end(delta = ""): void {
    if (this.done) return;
    this.done = true;
    this.frame(delta, true);
  }

  private frame(delta: string, done: boolean): void {
    this.deliver(this.audience, JSON.stringify({ type: "Stream", stream_id: this.id, index: this.index++, delta, done }));
  }
}
