/**
 * A `ws` WebSocket that also records the seq of every Event frame the server sends, before the SDK
 * sees it. The SDK drops duplicates and stale events itself; this tap shows what the server sent.
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

export function tappedWebSocket(onEventSeq: (seq: number) => void): WebSocketConstructor {
  return class TappedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { perMessageDeflate: false });
      // Registered before the SDK sets onmessage, so it runs first.
      this.on("message", (data, isBinary) => {
        if (isBinary) return;
        const seq = eventSeqOf(data.toString());
        if (seq !== null) onEventSeq(seq);
      });
    }
  } as unknown as WebSocketConstructor;
}
