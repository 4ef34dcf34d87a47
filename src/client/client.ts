import { CLOSE_CODES } from "../protocol/constants";
import type { EventFrame, SessionJoinedFrame } from "../protocol/envelope";
import type { AnyEvent, EventType } from "../protocol/events";
import type { OperationType, ResultOf } from "../protocol/operations";
import { isReadOperation } from "../protocol/generated/operation-kinds";
import { backoffDelay, type BackoffOptions } from "./backoff";
import { WrldbldrError } from "./errors";
import { parseServerFrame } from "./frames";
import { startHeartbeat, type Heartbeat, type HeartbeatOptions } from "./heartbeat";
import { randomClientId, requestIdGenerator } from "./ids";
import { BoundedSet, Listeners } from "./listeners";
import { Outbox, type Link, type RequestResult } from "./outbox";
import { MemoryOutboxStore, type OutboxEntry } from "./store";
import { openSocket, resolveWebSocket, type SocketEnd, type SocketHandle, type WebSocketConstructor } from "./socket";
import { streamDeltas, type StreamOptions } from "./streams";
import { stopTimer } from "./timers";
import { tokenExpiry } from "./token";
import { AssetUrls, uploadAsset, type UploadAssetOptions } from "./assets";
import type { UploadResult } from "../protocol/image-entities";
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
  StreamFrame,
} from "./types";

/** Outcome of a request restored from the store (sent by an earlier life of the app). */
export type RestoredOutcome = RequestResult;

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
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;
  private readonly heartbeatOptions: HeartbeatOptions | undefined;
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
  private heartbeat?: Heartbeat;
  private closeError?: WrldbldrError;

  private readonly outbox: Outbox;
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
  private readonly streamListeners = new Listeners<[StreamFrame]>(this.report);
  private readonly restoredListeners = new Listeners<[string, OutboxEntry["payload"], RestoredOutcome]>(this.report);

  constructor(opts: ConnectOptions) {
    this.url = opts.url;
    this.token = opts.token;
    this.Impl = resolveWebSocket(opts.WebSocket);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.backoff = { baseDelayMs: opts.reconnect?.baseDelayMs ?? 500, maxDelayMs: opts.reconnect?.maxDelayMs ?? 30_000 };
    this.maxAttempts = opts.reconnect?.maxAttempts ?? Infinity;
    this.heartbeatOptions =
      opts.heartbeat === false ? undefined : { intervalMs: opts.heartbeat?.intervalMs ?? 25_000, timeoutMs: opts.heartbeat?.timeoutMs ?? 10_000 };
    this.refreshToken = opts.refreshToken;
    this.refreshAfterFailedDials = opts.refreshAfterFailedDials ?? 4;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.seq = opts.lastSeq;
    this.clientId = opts.clientId ?? randomClientId();
    this.nextRequestId = requestIdGenerator(this.clientId);
    this.outbox = new Outbox({
      store: opts.store ?? new MemoryOutboxStore(),
      link: () => this.link(),
      onRestored: (entry, result) => this.restoredListeners.emit(entry.request_id, entry.payload, result),
      report: this.report,
    });
    this.storeLoaded = this.outbox.restore().catch(this.report);
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

  /**
   * Uploads an image (POST /assets with this client's token): the asset and an absolute signed URL.
   * See docs/images.md for who may upload what.
   */
  uploadAsset(data: Blob | ArrayBuffer | ArrayBufferView, opts: UploadAssetOptions = {}): Promise<UploadResult> {
    return uploadAsset(this.url, this.token, data, opts).then(
      (r) => (this.assetUrls.remember({ ...r.asset, url: r.url, url_expires_at: r.url_expires_at }), r),
    );
  }

  /** A valid signed URL for an asset, refreshed through GetAsset when it is about to expire. */
  assetUrl(assetId: string): Promise<string> {
    return this.assetUrls.get(assetId);
  }

  /** The cache behind assetUrl (remember URLs from ListAssets, forget one that failed to load). */
  get assetUrls(): AssetUrls {
    return (this.assetUrlCache ??= new AssetUrls(this.url, (asset_id) => this.request({ type: "GetAsset", asset_id })));
  }
  private assetUrlCache?: AssetUrls;

  /** Requests not yet answered, in sending order. */
  get pendingRequestIds(): string[] {
    return this.outbox.ids();
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
      if (this.outbox.has(requestId)) {
        return reject(WrldbldrError.local("VALIDATION_ERROR", `request '${requestId}' is already pending`, { request_id: requestId }, requestId));
      }
      this.outbox.add(requestId, payload as OutboxEntry["payload"], {
        persist: opts.persist ?? !isReadOperation(payload.type),
        timeoutMs: opts.timeout ?? this.requestTimeoutMs,
        caller: { resolve: ({ data, replayed }) => resolve({ data, replayed, request_id: requestId }), reject },
      });
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
      data = await this.request(payload, { timeout: opts.timeout ?? 0, persist: opts.persist, requestId });
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
    const fn = handler as unknown as AnyEventHandler;
    return set.add(fn, this.filtered(fn, opts));
  }

  off<K extends EventType>(type: K, handler: EventHandler<K>): void {
    this.eventListeners.get(type)?.delete(handler as unknown as AnyEventHandler);
  }

  /** Every event, with its seq and cause. Returns a function that removes the handler. */
  onAnyEvent(handler: AnyEventHandler, opts: OnOptions = {}): () => void {
    return this.anyEventListeners.add(handler, this.filtered(handler, opts));
  }

  offAnyEvent(handler: AnyEventHandler): void {
    this.anyEventListeners.delete(handler);
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

  /**
   * Raw `Stream` frames (LLM token streams: `{stream_id, index, delta, done}`), as they arrive.
   * Streams are live only: they are not replayed after a reconnect.
   */
  onStream(handler: (frame: StreamFrame) => void): () => void {
    return this.streamListeners.add(handler);
  }

  /** One stream's deltas as an async iterator, ending at `done` (see streams.ts). */
  stream(streamId: string, opts?: StreamOptions): AsyncIterableIterator<string> {
    return streamDeltas(this, streamId, opts);
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
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise((resolve, reject) => {
      const stop = this.onStateChange((s) => {
        if (s.state === "open") stop(), resolve();
        if (s.state === "closed") stop(), reject(s.error);
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
      socket.abandon(1000, "connect timeout", true);
      this.onEnd({ code: 1006, reason: "connect timeout", opened: false });
    }, this.connectTimeoutMs);
  }

  private onOpen(generation: number): void {
    if (generation !== this.generation) return;
    stopTimer(this.dialTimer);
    this.socketOpen = true;
    this.startHeartbeat();
    if (this.everJoined || this.seq !== undefined) this.setState({ state: "resuming", reason: "rejoining", attempt: this.attempt });
    this.sendJoin();
    // Requests may go before the join completes; the server serializes them after it.
    this.outbox.flush();
  }

  /** JoinSession from the last seq delivered (none on a first join: the app loads a snapshot). */
  private sendJoin(): void {
    this.joinedFrom = this.seq;
    this.socket?.send(JSON.stringify(this.seq === undefined ? { type: "JoinSession" } : { type: "JoinSession", last_seq: this.seq }));
  }

  private onText(text: string): void {
    this.heartbeat?.alive();
    if (text === "pong") return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.report(new Error(`unreadable frame: ${text.slice(0, 100)}`));
    }
    const frame = parseServerFrame(json);
    if (typeof frame === "string") return this.report(new Error(`unexpected frame: ${frame}`));
    switch (frame.type) {
      case "Response":
        return this.outbox.onResponse(frame);
      case "ResponseChunk":
        return this.outbox.onChunk(frame.request_id, frame.index, frame.data);
      case "Event":
        return this.onEvent(frame);
      case "SessionJoined":
        return this.handleJoined(frame);
      case "Error":
        return this.onErrorFrame(new WrldbldrError({ code: frame.code, message: frame.message, retryable: frame.retryable ?? false, details: frame.details }));
      case "Stream":
        return this.streamListeners.emit(frame);
    }
  }

  private onErrorFrame(error: WrldbldrError): void {
    // The join itself was rate limited: ask again when allowed.
    if (error.code === "RATE_LIMITED" && this.state !== "open" && this.socketOpen) {
      const wait = Number(error.details.retry_after_ms) || 1000;
      const generation = this.generation;
      setTimeout(() => {
        if (generation === this.generation && this.socketOpen) this.sendJoin();
      }, wait);
      return;
    }
    // UNAUTHENTICATED is followed by a close (4001/4003), which decides what happens next.
    if (error.code !== "UNAUTHENTICATED") this.report(error);
  }

  /** The open socket, for the outbox to write to. */
  private link(): Link | undefined {
    const socket = this.socket;
    return socket && this.socketOpen ? { generation: this.generation, send: (text) => socket.send(text) } : undefined;
  }

  private dropSocket(): void {
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    stopTimer(this.dialTimer);
    this.socket = undefined;
    this.socketOpen = false;
    this.outbox.disconnected();
  }

  private onEnd(end: SocketEnd): void {
    this.dropSocket();
    if (this.closeError) return;
    if (end.code === CLOSE_CODES.KICKED) {
      return this.terminate("kicked", WrldbldrError.local("FORBIDDEN", end.reason || "kicked from the session", { reason: "kicked" }));
    }
    if (end.httpStatus === 403) {
      return this.terminate(
        "forbidden",
        WrldbldrError.local("FORBIDDEN", "the server refused this participant (kicked, or a token of another session)", { reason: "forbidden", status: 403 }),
      );
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
      return this.terminate(
        "reconnect_limit",
        WrldbldrError.local("UNAVAILABLE", `gave up after ${this.attempt} reconnect attempts`, { reason: "reconnect_limit" }),
      );
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
    this.outbox.failAll(error, keepOutbox);
    this.setState({ state: "closed", reason, attempt: this.attempt, error });
  }

  private startHeartbeat(): void {
    if (!this.heartbeatOptions) return;
    this.heartbeat = startHeartbeat(
      this.heartbeatOptions,
      () => this.socket?.send("ping"),
      () => {
        // A dead link may never deliver a close: drop it without waiting.
        this.socket?.abandon(4000, "heartbeat timeout", true);
        this.dropSocket();
        this.scheduleReconnect("heartbeat_timeout");
      },
    );
  }
}

/** Connects to a session; the client reconnects, resumes and re-sends by itself until closed. */
export function connect(opts: ConnectOptions): WrldbldrClient {
  return new WrldbldrClient(opts);
}
