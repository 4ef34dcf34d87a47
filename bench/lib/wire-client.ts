/**
 * A raw wire-protocol client (DESIGN.md §1) over one `ws` socket, for measuring the protocol itself:
 * no reconnect, no queue. Requests resolve with their `result` (success or error), or reject on
 * timeout or close; every Event frame is recorded in arrival order.
 */
import WebSocket from "ws";
import type { Result } from "../../src/protocol/envelope";

export type Payload = { type: string } & Record<string, unknown>;

export interface ReceivedEvent {
  seq: number;
  type: string;
  cause_request_id: string | null;
}

export interface Joined {
  seq: number;
  resume: "replayed" | "snapshot";
  replayed_events: number;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Opens a socket with the token in the `bearer.<token>` subprotocol (no subprotocol without a token:
 * the bench's floor); rejects on refusal or timeout.
 */
export function openSocket(wsUrl: string, token: string | null, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl, token === null ? [] : ["wrldbldr.v1", `bearer.${token}`], { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
    ws.once("open", () => (clearTimeout(timer), resolve(ws)));
    ws.once("error", fail);
    ws.once("unexpected-response", (_req, res) => fail(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
}

export class WireClient {
  /** Every Event frame received, in arrival order. */
  readonly events: ReceivedEvent[] = [];
  /** Characters of every Event frame received (what the bench parsed for them). */
  eventFrameChars = 0;
  /** Called for each Event frame after it is recorded. */
  onEvent?: (e: ReceivedEvent) => void;
  private readonly pending = new Map<string, Waiter<Result>>();
  private joinWaiter?: Waiter<Joined>;
  private nextId = 0;

  private constructor(
    readonly ws: WebSocket,
    private readonly idPrefix: string,
  ) {
    ws.on("message", (raw) => this.onFrame(raw.toString()));
    ws.on("close", () => this.failAll(new Error("socket closed")));
    ws.on("error", () => undefined); // close follows
  }

  static async open(wsUrl: string, token: string | null, idPrefix = "b"): Promise<WireClient> {
    return new WireClient(await openSocket(wsUrl, token), idPrefix);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** JoinSession (optionally resuming after lastSeq); resolves on SessionJoined. */
  join(lastSeq?: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Joined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`JoinSession timeout after ${timeoutMs} ms`)), timeoutMs);
      this.joinWaiter = { resolve, reject, timer };
      this.ws.send(JSON.stringify(lastSeq === undefined ? { type: "JoinSession" } : { type: "JoinSession", last_seq: lastSeq }));
    });
  }

  newRequestId(): string {
    return `${this.idPrefix}-${++this.nextId}`;
  }

  /** Sends a Request and resolves with its result; `requestId` lets a caller re-send the same id. */
  request(payload: Payload, requestId = this.newRequestId(), timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Result> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`${payload.type} ${requestId}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type: "Request", request_id: requestId, payload }));
    });
  }

  /** Like request, but throws unless the result is a success; returns its data. */
  async call<T = unknown>(payload: Payload, requestId?: string): Promise<T> {
    const r = await this.request(payload, requestId);
    if (r.status !== "success") throw new Error(`${payload.type}: ${r.code} ${r.message}`);
    return r.data as T;
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => (this.ws.terminate(), resolve()), 2_000);
      this.ws.once("close", () => (clearTimeout(timer), resolve()));
      this.ws.close(1000, "bench done");
    });
  }

  private onFrame(text: string): void {
    if (text === "pong") return; // heartbeat answer
    const frame = JSON.parse(text) as { type: string } & Record<string, any>;
    switch (frame.type) {
      case "Event": {
        const e: ReceivedEvent = { seq: frame.seq, type: frame.event?.type, cause_request_id: frame.cause?.request_id ?? null };
        this.events.push(e);
        this.eventFrameChars += text.length;
        this.onEvent?.(e);
        return;
      }
      case "Response": {
        const w = this.pending.get(frame.request_id);
        if (!w) return;
        this.pending.delete(frame.request_id);
        clearTimeout(w.timer);
        w.resolve(frame.result as Result);
        return;
      }
      case "SessionJoined": {
        const w = this.joinWaiter;
        this.joinWaiter = undefined;
        if (w) clearTimeout(w.timer);
        w?.resolve({ seq: frame.seq, resume: frame.resume, replayed_events: frame.replayed_events });
        return;
      }
      case "Error":
        this.joinWaiter?.reject(new Error(`Error frame: ${frame.code} ${frame.message}`));
        return;
    }
  }

  private failAll(e: Error): void {
    for (const w of this.pending.values()) clearTimeout(w.timer), w.reject(e);
    this.pending.clear();
    if (this.joinWaiter) clearTimeout(this.joinWaiter.timer), this.joinWaiter.reject(e);
    this.joinWaiter = undefined;
  }
}
