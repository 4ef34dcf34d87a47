import { WS_SUBPROTOCOL } from "../protocol/constants";

/**
 * The WebSocket members the SDK uses, typed structurally so that the browser's WebSocket and
 * Node's `ws` both fit (handlers are `unknown` here because each library types its events its
 * own way; the SDK reads only `data`, `code`, `reason` and `message`).
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: unknown;
  onmessage: unknown;
  onclose: unknown;
  onerror: unknown;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** How a socket ended, as far as the client can tell. */
export interface SocketEnd {
  code: number;
  reason: string;
  /** Did it ever open? A socket that never opened is a failed dial. */
  opened: boolean;
  /**
   * HTTP status of a refused upgrade, when the implementation reveals it (Node's `ws` does, in
   * its error message; browsers never do — they only report close code 1006).
   */
  httpStatus?: number;
}

export interface SocketCallbacks {
  onOpen(): void;
  onText(text: string): void;
  /** Called once, unless the socket was abandoned first. */
  onEnd(end: SocketEnd): void;
}

export interface SocketHandle {
  send(text: string): void;
  /**
   * Detaches every callback and closes without waiting for the close handshake. `dead`: the link
   * is silent, so where the implementation can (Node's `ws`), the connection is torn down at once
   * instead of waiting for a close handshake that will not come.
   */
  abandon(code: number, reason: string, dead?: boolean): void;
}

const OPEN = 1;
const UPGRADE_STATUS = /Unexpected server response: (\d{3})/;

export function resolveWebSocket(given?: WebSocketConstructor): WebSocketConstructor {
  const impl = given ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!impl) throw new Error('no WebSocket implementation: pass one as connect({ WebSocket }) (in Node 20: `import { WebSocket } from "ws"`)');
  return impl;
}

/** Dials `url` with the token as subprotocol `bearer.<token>` (what browsers can send). */
export function openSocket(Impl: WebSocketConstructor, url: string, token: string, cb: SocketCallbacks): SocketHandle {
  const ws = new Impl(url, [WS_SUBPROTOCOL, `bearer.${token}`]);
  let opened = false;
  let live = true;
  let httpStatus: number | undefined;

  ws.onopen = () => {
    opened = true;
    if (live) cb.onOpen();
  };
  ws.onmessage = (ev: { data: unknown }) => {
    if (live && typeof ev.data === "string") cb.onText(ev.data);
  };
  ws.onerror = (ev: { message?: unknown }) => {
    const status = typeof ev?.message === "string" ? UPGRADE_STATUS.exec(ev.message)?.[1] : undefined;
    if (status) httpStatus = Number(status);
  };
  ws.onclose = (ev: { code?: number; reason?: string }) => {
    if (!live) return;
    live = false;
    cb.onEnd({ code: ev?.code ?? 1006, reason: ev?.reason ?? "", opened, httpStatus });
  };

  return {
    send(text) {
      if (ws.readyState === OPEN) ws.send(text);
    },
    abandon(code, reason, dead = false) {
      live = false;
      const terminate = (ws as { terminate?: () => void }).terminate;
      try {
        if (dead && typeof terminate === "function") terminate.call(ws);
        else ws.close(code, reason);
      } catch {
        // closing a socket that never opened may throw in some implementations
      }
    },
  };
}
