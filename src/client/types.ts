import type { EventCauseSchema, SessionJoinedFrame, StreamFrameSchema } from "../protocol/envelope";
import type { AnyEvent, EventOf, EventType } from "../protocol/events";
import type { OperationType, PayloadInput } from "../protocol/operations";
import type { WrldbldrError } from "./errors";
import type { OutboxStore } from "./store";
import type { WebSocketConstructor } from "./socket";
import type { z } from "zod";

/** A request payload of operation K, as the caller writes it; its `type` selects the result type. */
export type Payload<K extends OperationType> = { type: K } & PayloadInput<K>;

/**
 * - `connecting`: no socket is open; dialing, or waiting `retryInMs` before the next attempt.
 * - `resuming`: a socket is open again and the client rejoined with its last seq; missed events
 *   are arriving. (A first join stays `connecting` until `open`.)
 * - `open`: joined; live events flow.
 * - `closed`: for good (`reason` says why); every pending request was rejected.
 */
export type ConnectionState = "connecting" | "resuming" | "open" | "closed";

/** Why the client stopped for good. */
export type ClosedReason =
  | "closed_by_client"
  | "unauthenticated" // token refused and not refreshable (no callback, or refresh refused)
  | "forbidden" // token of another session
  | "kicked"
  | "reconnect_limit";

export interface StateChange {
  state: ConnectionState;
  /** Why: `initial`, `joined`, `socket_closed`, `heartbeat_timeout`, `refreshing_token`, a ClosedReason, … */
  reason: string;
  /** Reconnect attempts since the last successful join. */
  attempt: number;
  /** When `connecting` with a delay: ms until the next dial. */
  retryInMs?: number;
  /** Close code of the socket that just ended, if any. */
  closeCode?: number;
  /** When `closed`: the error pending and future requests are rejected with. */
  error?: WrldbldrError;
}

export type EventCause = z.infer<typeof EventCauseSchema>;
/** One piece of a token stream (`Stream` frame). */
export type StreamFrame = z.infer<typeof StreamFrameSchema>;

export interface EventMeta {
  /** Caused by a `mutate()` of this client whose change the app already applied locally. */
  optimistic: boolean;
  /** Delivered during a rejoin's replay of missed events (before `open`). */
  replayed: boolean;
}

export type EventHandler<K extends EventType> = (event: EventOf<K>, seq: number, cause: EventCause, meta: EventMeta) => void;
export type AnyEventHandler = (event: AnyEvent, seq: number, cause: EventCause, meta: EventMeta) => void;

export interface OnOptions {
  /** Do not call this handler for events whose change `mutate()` already applied (see EventMeta). */
  skipOptimistic?: boolean;
}

export interface RequestOptions {
  /** ms; 0 waits forever. Defaults to the client's `requestTimeoutMs`. */
  timeout?: number;
  /** Re-use an id: to learn the outcome of a request that timed out, send it again with its id. */
  requestId?: string;
  /** Keep it in the outbox store (survives reloads). Default: writes yes, reads (Get*, List*, Ping) no. */
  persist?: boolean;
}

export interface RequestOutcome<T> {
  data: T;
  request_id: string;
  /** The server had already executed this request id and returned its recorded result. */
  replayed: boolean;
}

export interface MutateOptions<T> extends RequestOptions {
  /** Applies the change locally, at once; receives the request id. */
  apply(requestId: string): void;
  /** Undoes `apply` after an error (server refusal, or a timeout you asked for). */
  rollback(error: WrldbldrError): void;
  /** Called with the server's result (e.g. to replace a temporary id). */
  confirm?(data: T): void;
}

/** Handed to `refreshToken`: why a new token is needed. */
export interface RefreshContext {
  token: string;
  reason: "expired" | "unauthenticated" | "open_failures";
}

export interface ConnectOptions {
  /** The session's ws_url, as returned by POST /auth/sessions or /auth/join. */
  url: string;
  token: string;
  /** WebSocket implementation; defaults to the global one (browsers). In Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** Default request timeout in ms (0 = none). Default 15 000. */
  requestTimeoutMs?: number;
  reconnect?: {
    baseDelayMs?: number; // default 500
    maxDelayMs?: number; // default 30 000
    /** Give up (state `closed`, reason `reconnect_limit`) after this many attempts in a row. Default: never. */
    maxAttempts?: number;
  };
  /** `ping` text frames; a connection silent for intervalMs + timeoutMs is treated as dead. `false` disables. */
  heartbeat?: { intervalMs?: number; timeoutMs?: number } | false;
  /** Supplies a new token (e.g. `refreshViaHttp({url})`). Without it, an expired token closes the client. */
  refreshToken?: (ctx: RefreshContext) => string | Promise<string>;
  /**
   * Browsers cannot see why an upgrade failed (an HTTP 401 looks like a network error). After this
   * many dials in a row that never opened, `refreshToken` is asked for a new token; if the refresh
   * is refused, the client closes as `unauthenticated`. Default 4.
   */
  refreshAfterFailedDials?: number;
  /** Outbox store; default in memory. `IndexedDBOutboxStore` keeps requests across page reloads. */
  store?: OutboxStore;
  /** Resume from this seq (the app kept its state and seq, e.g. across a reload). */
  lastSeq?: number;
  /** A dial that has not opened after this many ms is abandoned and retried. Default 10 000. */
  connectTimeoutMs?: number;
  /** Prefix of request ids; random by default. */
  clientId?: string;
}

export type { SessionJoinedFrame, WebSocketConstructor };
