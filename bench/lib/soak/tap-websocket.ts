/**
 * A `ws` WebSocket that also records the seq of every Event frame the server sends, before the SDK
 * sees it. The SDK drops duplicates and stale events itself; this tap shows what the server sent.
 * Frames that arrive after the client itself closed the socket (e.g. the SDK gave up on it after a
 * heartbeat timeout and dialed again) are not part of the stream the client reads: they are only
 * counted, as `late`.
 */
import WebSocket from "ws";
import type { WebSocketConstructor } from "../../../src/client";

/** The server writes Event frames as {"type":"Event","seq":N,…}; fall back to parsing otherwise. */
const EVENT_PREFIX = /^\{"type":"Event","seq":(\d+)[,}]/;

export function eventSeqOf(text: string): number | null {
  const m = EVENT_PREFIX.exec(text);
  if (m) return Number(m[1]);
  if (!text.includes('"Event"')) return null;
  try {
    const frame = JSON.parse(text) as { type?: unknown; seq?: unknown };
    return frame.type === "Event" && typeof frame.seq === "number" ? frame.seq : null;
  } catch {
    return null;
  }
}

export interface Tap {
  /** An Event frame on a socket the client still reads; sockets are numbered from 1 per client. */
  event(seq: number, socket: number): void;
  /** An Event frame on a socket the client had already closed. */
  late(seq: number): void;
}

export function tappedWebSocket(tap: Tap): WebSocketConstructor {
  let sockets = 0;
  return class TappedWebSocket extends WebSocket {
    private closedByClient = false;
    private readonly ordinal = ++sockets;

    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { perMessageDeflate: false });
      // Registered before the SDK sets onmessage, so it runs first.
      this.on("message", (data, isBinary) => {
        if (isBinary) return;
        const seq = eventSeqOf(data.toString());
        if (seq === null) return;
        if (this.closedByClient) tap.late(seq);
        else tap.event(seq, this.ordinal);
      });
    }

    override close(code?: number, reason?: string | Buffer): void {
      this.closedByClient = true;
      super.close(code, reason);
    }
  } as unknown as WebSocketConstructor;
}
