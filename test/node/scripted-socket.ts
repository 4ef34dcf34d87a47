import type { WebSocketLike } from "../../src/client";

/** A scripted WebSocket for SDK unit tests: the test plays the server, frame by frame. */
export class ScriptedSocket implements WebSocketLike {
  static sockets: ScriptedSocket[] = [];
  readyState = 0;
  readonly sent: string[] = [];
  onopen: unknown = null;
  onmessage: unknown = null;
  onclose: unknown = null;
  onerror: unknown = null;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    ScriptedSocket.sockets.push(this);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(): void {
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    (this.onopen as () => void)();
  }

  receive(frame: unknown): void {
    (this.onmessage as (ev: { data: string }) => void)({ data: JSON.stringify(frame) });
  }

  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    (this.onclose as (ev: { code: number; reason: string }) => void)({ code, reason });
  }

  joinFrames(): unknown[] {
    return this.sent.map((f) => JSON.parse(f) as { type: string }).filter((f) => f.type === "JoinSession");
  }
}
