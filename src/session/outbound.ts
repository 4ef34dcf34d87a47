/**
 * The outbound budget of each socket. workerd's WebSocket does not expose `bufferedAmount`, so a
 * slow reader cannot be seen directly: instead every frame sent is metered against a token bucket
 * of bytes (a burst that covers a long replay, refilled at a steady rate). A socket that would go
 * over it is behind by more than any healthy client, and is closed rather than buffered without end.
 */
export interface OutboundBudget {
  burstBytes: number;
  bytesPerSecond: number;
}

export class Outbound {
  private readonly buckets = new WeakMap<WebSocket, { bytes: number; at: number; over: boolean }>();

  constructor(
    private readonly budget: OutboundBudget,
    /** Called once when a socket goes over its budget (the frame was not sent). */
    private readonly onOverflow: (ws: WebSocket) => void,
  ) {}

  /** Sends `text` if the socket's budget allows; returns whether it was sent. */
  send(ws: WebSocket, text: string, now = Date.now()): boolean {
    const { burstBytes, bytesPerSecond } = this.budget;
    let b = this.buckets.get(ws);
    if (!b) this.buckets.set(ws, (b = { bytes: burstBytes, at: now, over: false }));
    if (b.over) return false; // being closed: nothing more goes to this socket
    if (now !== b.at) {
      b.bytes = Math.min(burstBytes, b.bytes + ((now - b.at) / 1000) * bytesPerSecond);
      b.at = now;
    }
    // JSON frames are nearly all ASCII: UTF-16 units stand for bytes without encoding each frame.
    const size = text.length;
    if (size > b.bytes) {
      b.over = true;
      this.onOverflow(ws);
      return false;
    }
    b.bytes -= size;
    try {
      ws.send(text);
      return true;
    } catch {
      // the socket closed meanwhile; its close handler does the bookkeeping
      return false;
    }
  }

  /** Sends without metering: the last words to a socket being closed. */
  sendFinal(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
    } catch {
      // already closed
    }
  }
}
