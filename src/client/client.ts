import {
  CLOSE_CODES,
  ResultSchema,
  ServerFrameSchema,
  type EventFrame,
  type ResponseFrame,
  type Result,
  type SessionJoinedFrame,
} from "../protocol/envelope";
import type { EventType } from "../protocol/events";
import type { OperationType, ResultOf } from "../protocol/operations";
import type { AnyEvent } from "../protocol/events";
import { backoffDelay, type BackoffOptions } from "./backoff";
import { WrldbldrError } from "./errors";
import { randomClientId, requestIdGenerator } from "./ids";
import { BoundedSet, Listeners } from "./listeners";
import { MemoryOutboxStore, sortOutbox, type OutboxEntry, type OutboxStore } from "./store";
import { openSocket, resolveWebSocket, type SocketEnd, type SocketHandle, type WebSocketConstructor } from "./socket";
import { tokenExpiry } from "./token";
import type {
  AnyEventHandler,
  ClosedReason,
  ConnectOptions,
  ConnectionState,
  EventHandler,
  EventMeta,
  MutateOptions,
  OnOptions,
  Payload,
  RefreshContext,
  RequestOptions,
  RequestOutcome,
  StateChange,
} from "./types";

/** A request the server has not answered yet (sent or not). */
interface Pending {
  entry: OutboxEntry;
  frame: string;
  persisted: boolean;
  /** Generation of the socket it was last sent on; re-sent on every newer socket. */
  sentOn?: number;
  /** Absent for requests restored from the store: nobody awaits them in this life. */
  caller?: { resolve(outcome: RequestOutcome<unknown>): void; reject(err: WrldbldrError): void };
  timer?: ReturnType<typeof setTimeout>;
  retryTimer?: ReturnType<typeof setTimeout>;
}

/** Outcome of a request restored from the store (sent by an earlier life of the app). */
export type RestoredOutcome = { ok: true; data: unknown; replayed: boolean } | { ok: false; error: WrldbldrError };

const READ_OPERATION = /^(Get|List|Ping$)/;
const OPTIMISTIC_IDS_KEPT = 2_000;

/**
 * The WrldbldrEdge client: one session, one participant. See docs/client.md.
 * Create it with `connect()`.
 */
export class WrldbldrClient {
  readonly clientId: string;
  readonly nextRequestId: () => string;

  private token: string;
  private readonly url: string;
  private readonly Impl: WebSocketConstructor;
  private readonly store: OutboxStore;
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;
  private readonly heartbeat: { intervalMs: number; timeoutMs: number } | undefined;
  private readonly refreshToken: ConnectOptions["refreshToken"];
  private readonly refreshAfterFailedDials: number;
  private readonly connectTimeoutMs: number;

  private current: StateChange = { state: "connecting", reason: "initial", attempt: 0 };
  private socket?: SocketHandle;
  private socketOpen = false;
  private generation = 0;
  private everJoined = false;
  private seq: number | undefined;
  /** The last_seq sent in the current JoinSession (undefined: a first join). */
  private joinedFrom: number | undefined;
  private attempt = 0;
  private failedDials = 0;
  /** The token came from refreshToken and has not yet led to a join: refusing it again is final. */
  private tokenFresh = false;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private dialTimer?: ReturnType<typeof setTimeout>;
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private lastFrameAt = 0;
  private lastPingAt = 0;
  private closeError?: WrldbldrError;
  private order = 0;

  private readonly pending = new Map<string, Pending>();
  private readonly chunks = new Map<string, string[]>();
  private readonly optimisticIds = new BoundedSet(OPTIMISTIC_IDS_KEPT);
  private readonly storeLoaded: Promise<void>;

  private readonly errorListeners = new Listeners<[unknown]>((err) => console.error("wrldbldr client: an onError listener threw", err));
  private readonly report = (err: unknown) => {
    if (this.errorListeners.size > 0) this.errorListeners.emit(err);
    else console.error("wrldbldr client:", err);
  };
  private readonly eventListeners = new Map<string, Listeners<Parameters<AnyEventHandler>>>();
  private readonly anyEventListeners = new Listeners<Parameters<AnyEventHandler>>(this.report);
  private readonly stateListeners = new Listeners<[StateChange]>(this.report);
  private readonly joinedListeners = new Listeners<[SessionJoinedFrame]>(this.report);
  private readonly snapshotListeners = new Listeners<[{ seq: number; previousSeq: number | undefined }]>(this.report);
  private readonly restoredListeners = new Listeners<[string, OutboxEntry["payload"], RestoredOutcome]>(this.report);

  constructor(opts: ConnectOptions) {
    this.url = opts.url;
    this.token = opts.token;
    this.Impl = resolveWebSocket(opts.WebSocket);
    this.store = opts.store ?? new MemoryOutboxStore();
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.backoff = { baseDelayMs: opts.reconnect?.baseDelayMs ?? 500, maxDelayMs: opts.reconnect?.maxDelayMs ?? 30_000 };
    this.maxAttempts = opts.reconnect?.maxAttempts ?? Infinity;
    this.heartbeat = opts.heartbeat === false ? undefined : { intervalMs: opts.heartbeat?.intervalMs ?? 25_000, timeoutMs: opts.heartbeat?.timeoutMs ?? 10_000 };
    this.refreshToken = opts.refreshToken;
    this.refreshAfterFailedDials = opts.refreshAfterFailedDials ?? 4;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.seq = opts.lastSeq;
    this.clientId = opts.clientId ?? randomClientId();
    this.nextRequestId = requestIdGenerator(this.clientId);
    this.storeLoaded = this.restoreOutbox();
    void this.dial();
  }

  // ---------------------------------------------------------------- public API

  get state(): ConnectionState {
    return this.current.state;
  }

  /** The latest state with its reason. */
  get stateInfo(): StateChange {
    return this.current;
  }

  /** The seq of the last event delivered (persist it with your state to resume after a reload). */
  get lastSeq(): number | undefined {
    return this.seq;
  }

  /** The token in use (it changes when refreshed). */
  get currentToken(): string {
    return this.token;
  }

  /** Requests not yet answered, in sending order. */
  get pendingRequestIds(): string[] {
    return [...this.pending.keys()];
  }

  /** Sends a request; resolves with its typed result, rejects with a WrldbldrError. */
  async request<K extends OperationType>(payload: Payload<K>, opts: RequestOptions = {}): Promise<ResultOf<K>> {
    return (await this.requestWithMeta(payload, opts)).data;
  }

  /** Like `request`, also telling the request id and whether the server replayed a recorded result. */
  requestWithMeta<K extends OperationType>(payload: Payload<K>, opts: RequestOptions = {}): Promise<RequestOutcome<ResultOf<K>>> {
    return new Promise<RequestOutcome<unknown>>((resolve, reject) => {
      if (this.closeError) return reject(this.closeError);
      const requestId = opts.requestId ?? this.nextRequestId();
      if (this.pending.has(requestId)) {
        return reject(WrldbldrError.local("VALIDATION_ERROR", `request '${requestId}' is already pending`, { request_id: requestId }, requestId));
      }
      const entry: OutboxEntry = { request_id: requestId, payload: payload as OutboxEntry["payload"], created_at: Date.now(), order: this.order++ };
      const persist = opts.persist ?? !READ_OPERATION.test(payload.type);
      const p = this.track(entry, persist, { resolve, reject });
      const timeout = opts.timeout ?? this.requestTimeoutMs;
      if (timeout > 0) p.timer = setTimeout(() => this.timeOut(p, timeout), timeout);
      if (persist) this.store.put(entry).catch(this.report);
      this.send(p);
    }) as Promise<RequestOutcome<ResultOf<K>>>;
  }

  /**
   * Optimistic write: `apply` runs at once, `confirm` on success, `rollback` on error. The event
   * the server broadcasts for this write carries its request id; handlers see it with
   * `meta.optimistic === true` (or never, if registered with `{ skipOptimistic: true }`), so the
   * change is not applied twice. Waits for the answer across reconnects (no timeout) unless
   * `timeout` is given.
   */
  async mutate<K extends OperationType>(payload: Payload<K>, opts: MutateOptions<ResultOf<K>>): Promise<ResultOf<K>> {
    const requestId = opts.requestId ?? this.nextRequestId();
    this.optimisticIds.add(requestId);
    try {
      opts.apply(requestId);
    } catch (err) {
      this.optimisticIds.delete(requestId);
      throw err;
    }
    let data: ResultOf<K>;
    try {
      data = await this.request(payload, { timeout: 0, ...opts, requestId });
    } catch (err) {
      this.optimisticIds.delete(requestId);
      const error = err instanceof WrldbldrError ? err : WrldbldrError.local("INTERNAL", String(err), {}, requestId);
      opts.rollback(error);
      throw error;
    }
    opts.confirm?.(data);
    return data;
  }

  /** Was this request id an optimistic mutation of this client (whose change is already applied)? */
  isOptimistic(requestId: string | null | undefined): boolean {
    return this.optimisticIds.has(requestId);
  }

  /** Typed handler for one event type. Returns a function that removes it. */
  on<K extends EventType>(type: K, handler: EventHandler<K>, opts: OnOptions = {}): () => void {
    let set = this.eventListeners.get(type);
    if (!set) this.eventListeners.set(type, (set = new Listeners(this.report)));
    const wrapped = this.filtered(handler as unknown as AnyEventHandler, opts);
    handlerWrappers.set(handler, wrapped);
    return set.add(wrapped);
  }

  off<K extends EventType>(type: K, handler: EventHandler<K>): void {
    const wrapped = handlerWrappers.get(handler);
    if (wrapped) this.eventListeners.get(type)?.delete(wrapped);
  }

  /** Every event, with its seq and cause. Returns a function that removes the handler. */
  onAnyEvent(handler: AnyEventHandler, opts: OnOptions = {}): () => void {
    return this.anyEventListeners.add(this.filtered(handler, opts));
  }

  onStateChange(handler: (change: StateChange) => void): () => void {
    return this.stateListeners.add(handler);
  }

  /** Every SessionJoined (first join and each rejoin): roster, seq, how it resumed. */
  onJoined(handler: (joined: SessionJoinedFrame) => void): () => void {
    return this.joinedListeners.add(handler);
  }

  /**
   * The server could not replay what was missed (too old, or the log was reset): local state may
   * be stale and must be reloaded (e.g. GetSessionSnapshot). Events continue from `seq`.
   */
  onSnapshot(handler: (info: { seq: number; previousSeq: number | undefined }) => void): () => void {
    return this.snapshotListeners.add(handler);
  }

  /** Answers to requests restored from the store (sent by an earlier life of the app). */
  onRestoredResult(handler: (requestId: string, payload: OutboxEntry["payload"], outcome: RestoredOutcome) => void): () => void {
    return this.restoredListeners.add(handler);
  }

  /** Failures that belong to no request: store errors, handlers that threw, unreadable frames. */
  onError(handler: (err: unknown) => void): () => void {
    return this.errorListeners.add(handler);
  }

  /** Resolves when the client is (next) `open`; rejects if it closes for good first. */
  whenOpen(): Promise<void> {
    if (this.state === "open") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const stop = this.onStateChange((s) => {
        if (s.state === "open") (stop(), resolve());
        if (s.state === "closed") (stop(), reject(s.error));
      });
    });
  }

  /**
   * Closes for good: pending requests are rejected and dropped from the store — unless
   * `keepOutbox`, which leaves stored requests for the next client to re-send (as a page reload would).
   */
  close(opts: { keepOutbox?: boolean } = {}): void {
    const error = WrldbldrError.local("UNAVAILABLE", "the client was closed", { reason: "closed_by_client" });
    this.terminate("closed_by_client", error, opts.keepOutbox ?? false);
  }

  // ---------------------------------------------------------------- requests

  private track(entry: OutboxEntry, persisted: boolean, caller?: Pending["caller"]): Pending {
    const p: Pending = { entry, persisted, caller, frame: JSON.stringify({ type: "Request", request_id: entry.request_id, payload: entry.payload }) };
    this.pending.set(entry.request_id, p);
    return p;
  }

  private send(p: Pending): void {
    if (!this.socket || !this.socketOpen || p.sentOn === this.generation) return;
    p.sentOn = this.generation;
    this.socket.send(p.frame);
  }

  private timeOut(p: Pending, ms: number): void {
    const sent = p.sentOn !== undefined;
    const outcome = sent ? "unknown" : "not_sent";
    const hint = sent ? "; ask again with the same requestId to learn whether it was applied" : "; it was never sent";
    this.finish(p, {
      ok: false,
      error: WrldbldrError.local("TIMEOUT", `no response within ${ms} ms${hint}`, { request_id: p.entry.request_id, outcome }, p.entry.request_id),
    });
  }

  private finish(p: Pending, outcome: RestoredOutcome, keepStored = false): void {
    if (this.pending.get(p.entry.request_id) !== p) return;
    this.pending.delete(p.entry.request_id);
    stopTimer(p.timer);
    stopTimer(p.retryTimer);
    if (p.persisted && !keepStored) this.store.delete(p.entry.request_id).catch(this.report);
    if (!p.caller) return this.restoredListeners.emit(p.entry.request_id, p.entry.payload, outcome);
    if (outcome.ok) p.caller.resolve({ data: outcome.data, request_id: p.entry.request_id, replayed: outcome.replayed });
    else p.caller.reject(outcome.error);
  }

  private onResponse(frame: ResponseFrame): void {
    const requestId = frame.request_id;
    const result = this.assembleResult(frame);
    const p = this.pending.get(requestId);
    if (!p || !result) return; // already answered (a duplicate), or timed out and forgotten
    if (result.status === "success") return this.finish(p, { ok: true, data: result.data, replayed: result.replayed === true });
    const error = new WrldbldrError(result, { requestId });
    if (result.code === "RATE_LIMITED") return this.retryLater(p, error);
    this.finish(p, { ok: false, error });
  }

  /** The result of a Response, joining its ResponseChunks when it came in pieces. */
  private assembleResult(frame: ResponseFrame): Result | undefined {
    if (frame.result) return frame.result;
    const parts = this.chunks.get(frame.request_id);
    this.chunks.delete(frame.request_id);
    const complete = parts && frame.chunks !== undefined && parts.length === frame.chunks && parts.every((c) => c !== undefined);
    if (complete) {
      try {
        const parsed = ResultSchema.safeParse(JSON.parse(parts.join("")));
        if (parsed.success) return parsed.data;
      } catch {
        // reported below
      }
    }
    const error = WrldbldrError.local("INTERNAL", "a chunked response arrived incomplete or unreadable", { request_id: frame.request_id }, frame.request_id);
    return { status: "error", ...error.toBody() };
  }

  /** RATE_LIMITED changed nothing: send the same request again once the server allows it. */
  private retryLater(p: Pending, error: WrldbldrError): void {
    const wait = Number(error.details.retry_after_ms) || 1000;
    p.sentOn = undefined;
    stopTimer(p.retryTimer);
    p.retryTimer = setTimeout(() => this.send(p), wait);
  }

  // ---------------------------------------------------------------- events

  private filtered(handler: AnyEventHandler, opts: OnOptions): AnyEventHandler {
    if (!opts.skipOptimistic) return handler;
    return (event, seq, cause, meta) => {
      if (!meta.optimistic) handler(event, seq, cause, meta);
    };
  }

  private onEvent(frame: EventFrame): void {
    // Never deliver an event twice, nor one older than what was delivered.
    if (this.seq !== undefined && frame.seq <= this.seq) return;
    this.seq = frame.seq;
    const event = frame.event as AnyEvent;
    const meta: EventMeta = { optimistic: this.optimisticIds.has(frame.cause.request_id), replayed: this.state !== "open" };
    this.eventListeners.get(event.type)?.emit(event, frame.seq, frame.cause, meta);
    this.anyEventListeners.emit(event, frame.seq, frame.cause, meta);
  }

  private handleJoined(frame: SessionJoinedFrame): void {
    const previousSeq = this.seq;
    if (frame.resume === "snapshot") {
      // Whatever we had is not continued by this server state: follow its seq from here.
      this.seq = frame.seq;
    } else if (this.seq === undefined || frame.seq > this.seq) {
      this.seq = frame.seq;
    }
    this.everJoined = true;
    this.attempt = 0;
    this.failedDials = 0;
    this.tokenFresh = false;
    this.setState({ state: "open", reason: "joined", attempt: 0 });
    this.joinedListeners.emit(frame);
    if (frame.resume === "snapshot" && this.joinedFrom !== undefined) this.snapshotListeners.emit({ seq: frame.seq, previousSeq });
  }

  // ---------------------------------------------------------------- connection

  private setState(change: StateChange): void {
    this.current = change;
    this.stateListeners.emit(change);
  }

  private async restoreOutbox(): Promise<void> {
    try {
      const restored = sortOutbox(await this.store.load()).filter((e) => !this.pending.has(e.request_id));
      if (restored.length === 0) return;
      // Restored requests go first: they were made before anything this life has asked.
      const mine = [...this.pending.values()];
      this.pending.clear();
      for (const entry of restored) this.track(entry, true);
      for (const p of mine) this.pending.set(p.entry.request_id, p);
    } catch (err) {
      this.report(err);
    }
  }

  private async dial(): Promise<void> {
    await this.storeLoaded;
    if (this.closeError) return;
    const exp = tokenExpiry(this.token);
    // An expired token is refreshed before dialing rather than sent to fail the upgrade.
    if (exp !== undefined && exp <= Date.now() && !this.tokenFresh) {
      return this.recoverAuth("expired");
    }
    const generation = ++this.generation;
    const socket = openSocket(this.Impl, this.url, this.token, {
      onOpen: () => this.onOpen(generation),
      onText: (text) => this.onText(text),
      onEnd: (end) => this.onEnd(end),
    });
    this.socket = socket;
    // A stalled network can leave a dial hanging forever: give up on it like on a failed one.
    this.dialTimer = setTimeout(() => {
      if (this.socket !== socket || this.socketOpen) return;
      socket.abandon(1000, "connect timeout");
      this.onEnd({ code: 1006, reason: "connect timeout", opened: false });
    }, this.connectTimeoutMs);
  }

  private onOpen(generation: number): void {
    if (generation !== this.generation) return;
    stopTimer(this.dialTimer);
    this.socketOpen = true;
    if (this.everJoined || this.seq !== undefined) this.setState({ state: "resuming", reason: "rejoining", attempt: this.attempt });
    this.joinedFrom = this.seq;
    this.socket?.send(JSON.stringify(this.seq === undefined ? { type: "JoinSession" } : { type: "JoinSession", last_seq: this.seq }));
    // Requests may go before the join completes; the server serializes them after it.
    for (const p of this.pending.values()) this.send(p);
    this.startHeartbeat();
  }

  private onText(text: string): void {
    this.lastFrameAt = Date.now();
    if (text === "pong") return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.report(new Error(`unreadable frame: ${text.slice(0, 100)}`));
    }
    const parsed = ServerFrameSchema.safeParse(json);
    if (!parsed.success) return this.report(new Error(`unexpected frame: ${parsed.error.issues[0]?.message ?? "?"}`));
    const frame = parsed.data;
    switch (frame.type) {
      case "Response":
        return this.onResponse(frame);
      case "ResponseChunk": {
        const parts = this.chunks.get(frame.request_id) ?? [];
        parts[frame.index] = frame.data;
        this.chunks.set(frame.request_id, parts);
        return;
      }
      case "Event":
        return this.onEvent(frame);
      case "SessionJoined":
        return this.handleJoined(frame);
      case "Error":
        return this.onErrorFrame(new WrldbldrError({ code: frame.code, message: frame.message, retryable: frame.retryable ?? false, details: frame.details }));
      case "Stream":
        return; // token streams are not part of this SDK yet (no operation produces them)
    }
  }

  private onErrorFrame(error: WrldbldrError): void {
    // The join itself was rate limited: ask again when allowed.
    if (error.code === "RATE_LIMITED" && this.state !== "open" && this.socketOpen) {
      const wait = Number(error.details.retry_after_ms) || 1000;
      const generation = this.generation;
      setTimeout(() => {
        if (generation === this.generation && this.socketOpen) {
          this.socket?.send(JSON.stringify(this.seq === undefined ? { type: "JoinSession" } : { type: "JoinSession", last_seq: this.seq }));
        }
      }, wait);
      return;
    }
    // UNAUTHENTICATED is followed by a close (4001/4003), which decides what happens next.
    if (error.code !== "UNAUTHENTICATED") this.report(error);
  }

  private dropSocket(): void {
    this.stopHeartbeat();
    stopTimer(this.dialTimer);
    this.socket = undefined;
    this.socketOpen = false;
    this.chunks.clear();
    for (const p of this.pending.values()) stopTimer(p.retryTimer);
  }

  private onEnd(end: SocketEnd): void {
    this.dropSocket();
    if (this.closeError) return;
    if (end.code === CLOSE_CODES.KICKED) {
      return this.terminate("kicked", WrldbldrError.local("UNAUTHENTICATED", end.reason || "kicked from the session", { reason: "kicked" }));
    }
    if (end.httpStatus === 403) {
      return this.terminate("forbidden", WrldbldrError.local("FORBIDDEN", "the token does not belong to this session", { reason: "forbidden", status: 403 }));
    }
    if (end.httpStatus === 401 || end.code === CLOSE_CODES.UNAUTHENTICATED) return void this.recoverAuth("unauthenticated", end.code);
    if (!end.opened) this.failedDials++;
    if (this.refreshToken && this.failedDials >= this.refreshAfterFailedDials) {
      this.failedDials = 0;
      return void this.recoverAuth("open_failures", end.code);
    }
    this.scheduleReconnect("socket_closed", end.code);
  }

  /** The token was refused or is expired: get a new one, or stop. */
  private async recoverAuth(reason: RefreshContext["reason"], closeCode?: number): Promise<void> {
    const refuse = (why: string, cause?: WrldbldrError) =>
      this.terminate("unauthenticated", WrldbldrError.local("UNAUTHENTICATED", why, { reason: "unauthenticated", cause: cause?.toBody() }));
    if (!this.refreshToken) return refuse(reason === "expired" ? "the token expired and no refreshToken callback was given" : "the server refused the token");
    // A token refused right after being refreshed will not become valid by refreshing again.
    if (reason === "unauthenticated" && this.tokenFresh) return refuse("the server refused the refreshed token");
    this.setState({ state: "connecting", reason: "refreshing_token", attempt: this.attempt, closeCode });
    try {
      this.token = await this.refreshToken({ token: this.token, reason });
      this.tokenFresh = true;
    } catch (err) {
      if (this.closeError) return;
      const error = err instanceof WrldbldrError ? err : WrldbldrError.local("UNAVAILABLE", `refreshToken failed: ${String(err)}`);
      // Refused (revoked, kicked, too old): stop. Unreachable: try again later.
      if (!error.retryable) return refuse(`token refresh refused: ${error.message}`, error);
      return this.scheduleReconnect("refresh_failed", closeCode);
    }
    if (this.closeError) return;
    void this.dial();
  }

  private scheduleReconnect(reason: string, closeCode?: number): void {
    if (this.attempt >= this.maxAttempts) {
      return this.terminate("reconnect_limit", WrldbldrError.local("UNAVAILABLE", `gave up after ${this.attempt} reconnect attempts`, { reason: "reconnect_limit" }));
    }
    const delay = backoffDelay(this.attempt, this.backoff);
    this.attempt++;
    this.setState({ state: "connecting", reason, attempt: this.attempt, retryInMs: delay, closeCode });
    stopTimer(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.dial(), delay);
  }

  private terminate(reason: ClosedReason, error: WrldbldrError, keepOutbox = false): void {
    if (this.closeError) return;
    this.closeError = error;
    stopTimer(this.reconnectTimer);
    this.socket?.abandon(1000, reason);
    this.dropSocket();
    for (const p of [...this.pending.values()]) this.finish(p, { ok: false, error }, keepOutbox);
    this.setState({ state: "closed", reason, attempt: this.attempt, error });
  }

  // ---------------------------------------------------------------- heartbeat

  private startHeartbeat(): void {
    const hb = this.heartbeat;
    if (!hb) return;
    this.lastFrameAt = this.lastPingAt = Date.now();
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      const silent = now - this.lastFrameAt;
      if (silent >= hb.intervalMs + hb.timeoutMs) {
        // A dead link may never deliver a close: drop it without waiting.
        this.socket?.abandon(4000, "heartbeat timeout");
        this.dropSocket();
        this.scheduleReconnect("heartbeat_timeout");
      } else if (silent >= hb.intervalMs && now - this.lastPingAt >= hb.intervalMs) {
        this.lastPingAt = now;
        this.socket?.send("ping");
      }
    }, Math.max(50, Math.min(hb.intervalMs, hb.timeoutMs) / 2));
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}

/** clearTimeout that accepts "no timer" under every runtime's typings. */
function stopTimer(timer: ReturnType<typeof setTimeout> | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}

/** on()/off() pairs: the wrapper registered for each handler, so off() can find it. */
const handlerWrappers = new WeakMap<object, AnyEventHandler>();

/** Connects to a session; the client reconnects, resumes and re-sends by itself until closed. */
export function connect(opts: ConnectOptions): WrldbldrClient {
  return new WrldbldrClient(opts);
}
