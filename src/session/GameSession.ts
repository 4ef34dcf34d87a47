import { DurableObject } from "cloudflare:workers";
import { limits, type Env, type Limits } from "../env";
import { ROSTER_PAGE, participants, requireParticipant, toParticipant, type ParticipantRow } from "../engine/participants";
import type { ServerStream, SessionServices } from "../engine/context";
import {
  AppError,
  CLOSE_CODES,
  ClientFrameSchema,
  DEFAULT_SESSION_SETTINGS,
  RequestIdSchema,
  SessionSettingsSchema,
  WS_SUBPROTOCOL,
  frameLimitOf,
  invalidField,
  type ErrorBody,
  type Result,
  type Role,
  type SessionSettings,
} from "../protocol";
import { EventLog, type StoredEvent } from "./eventlog";
import { Metrics } from "./metrics";
import { ReadCache } from "../engine/read-cache";
import { inAudience, viewFor } from "./redact";
import { WriteGroups, routeRequest, type RouterDeps } from "./router";
import { ALL, Tx, type Audience } from "../engine/tx";
import { newInviteCode } from "../domain/session";
import { Deadlines } from "./deadlines";
import { Scheduler } from "./scheduler";
import { Outbound } from "./outbound";
import { OutboundStream } from "./streams";
import { JOB_LEASE, JobRunner } from "./jobs";
import { requestLogPolicy, type RequestLogPolicy } from "./request-log";
import { DOMAIN_TIMER, DomainTimers } from "./timers";
import { SYSTEM_ACTOR } from "../engine/timers";
import { redactCharacterRefs } from "../domain/character-refs";
import type { HandlerContext } from "../engine/context";
import { authorizeUpload, recordUpload, type UploadInput } from "../domain/assets";
import type { Actor } from "../engine/authorize";
import type { Asset } from "../protocol";

/** Per-connection identity, kept in the socket attachment so it survives hibernation. */
interface Attachment {
  participant_id: string;
  role: Role;
  /** Token expiry, ms since epoch: checked on every message. */
  exp: number;
  /** Set by JoinSession: only joined sockets receive events. */
  joined: boolean;
  /** When the upgrade was accepted: JoinSession is due within JOIN_TIMEOUT_MS, and a participant over its socket cap loses its oldest. */
  opened_at: number;
}

/** Identity the Worker verified from the token and hands over with the upgrade. */
export const IDENTITY_HEADERS = {
  session: "x-wb-session",
  participant: "x-wb-participant",
  role: "x-wb-role",
  exp: "x-wb-exp",
} as const;

export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

const METRICS_FLUSH_MS = 5_000;
/** A socket without a sign of life for this long may be replaced by its participant's new one. */
const STALE_SOCKET_MS = 60_000;
/** Inbound metering: every frame costs one token, plus one per this many bytes. */
const METER_BYTES_PER_TOKEN = 64 * 1024;
const TRIM_EVERY_EVENTS = 200;
/** The scheduler kinds (and entry ids) of the object's own duties. */
const DUTY = { flush: "metrics.flush", trim: "log.trim", sweep: "sockets.sweep" } as const;
const encoder = new TextEncoder();

/**
 * The UTF-8 size of `s`, exactly — except when it cannot exceed `below` (every UTF-16 unit is at
 * most 3 bytes), where its length is returned without encoding: enough for comparisons with limits
 * of at least `below`.
 */
function utf8Size(s: string, below: number): number {
  return s.length * 3 <= below ? s.length : encoder.encode(s).byteLength;
}

/** The request_id of a frame too large or too frequent to parse, if it can be seen at its start. */
function peekRequestId(text: string): string | undefined {
  return /"request_id"\s*:\s*"([^"\\]{1,128})"/.exec(text.slice(0, 512))?.[1];
}

/**
 * A kicked participant's token is genuine but no longer welcome: FORBIDDEN (HTTP 403, close 4003)
 * tells clients to stop, where UNAUTHENTICATED (401, 4001) would invite a token refresh.
 */
const kickedError = () => new AppError("FORBIDDEN", "the participant was kicked from this session", { reason: "kicked" });

/**
 * One game session: its sockets (hibernatable), its request router and its event log.
 * The only writer of its session's rows in D1. Everything that must survive lives in D1 or in
 * socket attachments; memory only caches (seq, settings, the roster) and is rebuilt on wake.
 */
export class GameSession extends DurableObject<Env> implements SessionServices {
  private readonly limits: Limits;
  private state?: {
    sessionId: string;
    worldId: string;
    settings: SessionSettings;
    /** Every participant, in creation order: the object is the only writer of these rows. */
    roster: Map<string, ParticipantRow>;
    log: EventLog;
  };
  private loading?: Promise<void>;
  private queue: Promise<unknown> = Promise.resolve();
  /** Inbound metering per participant (not per socket: more sockets buy no more throughput). */
  private readonly meters = new Map<string, { tokens: number; at: number; inflight: number }>();
  /** Sockets whose JoinSession is replaying: a second JoinSession meanwhile is refused too. */
  private readonly joining = new WeakSet<WebSocket>();
  /** When each socket last sent a frame (this instance's memory; after a wake, heartbeats tell). */
  private readonly seen = new WeakMap<WebSocket, number>();
  /** The highest seq broadcast so far: joins replay up to it, later events reach them live. */
  private broadcastSeq = 0;
  private readonly attachments = new WeakMap<WebSocket, Attachment>();
  private readonly metrics = new Metrics();
  private readonly reads = new ReadCache();
  private lastTrimSeq = 0;
  /** The one owner of the object's alarm: every timed duty is an entry here. */
  private readonly scheduler: Scheduler;
  /** Every frame to a socket goes through its outbound budget. */
  private readonly outbound: Outbound;
  private readonly jobs: JobRunner;
  /** Requests' writes, handled and committed in groups inside the serial queue. */
  private readonly writes = new WriteGroups((fn) => this.serial(fn));
  private readonly logRequest: RequestLogPolicy;
  /** The handler timeouts of the requests in progress, on one timer. */
  private readonly deadlines = new Deadlines();
  /** Timed domain work (staging timeouts): entries of the scheduler, fired in the write queue. */
  private readonly timers: DomainTimers;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = limits(env);
    this.logRequest = requestLogPolicy(env.LOG_REQUESTS);
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.outbound = new Outbound({ burstBytes: this.limits.outboundBurstBytes, bytesPerSecond: this.limits.outboundBytesPerSecond }, (ws) =>
      this.refuse(ws, CLOSE_CODES.OUTBOUND_BACKLOG, new AppError("UNAVAILABLE", "this connection fell too far behind; reconnect and resume", { reason: "outbound_backlog", burst_bytes: this.limits.outboundBurstBytes })),
    );
    this.scheduler = new Scheduler(
      ctx.storage,
      {
        [DUTY.flush]: () => this.metrics.flush(env.DB, this.sessionId, this.ctx.getWebSockets().length, Date.now()),
        [DUTY.trim]: () => this.trimNow(),
        [DUTY.sweep]: () => this.sweepSockets(Date.now()),
        [JOB_LEASE]: (data) => this.jobs.onLease(data),
        [DOMAIN_TIMER]: (data) => this.timers.fire(data),
      },
      { maxAttempts: this.limits.dutyMaxAttempts },
    );
    this.jobs = new JobRunner({
      env,
      limits: this.limits,
      db: env.DB,
      session: this,
      scheduler: this.scheduler,
      openStream: (audience, id) => this.openStream(audience, id),
      write: (participantId, build) => this.writeQueued(participantId, build),
    });
    this.timers = new DomainTimers({
      scheduler: this.scheduler,
      write: (fire) =>
        this.writeQueued(null, async (tx, now) => {
          await fire(this.systemContext(tx, now));
          if (tx.statements.length === 0 && tx.events.length === 0) return false;
          await redactCharacterRefs(env.DB, this.sessionId, tx);
          return true;
        }),
    });
  }

  /** What a timer's domain code runs with: the session itself acts (SYSTEM_ACTOR). */
  private systemContext(tx: Tx, now: number): HandlerContext {
    return this.contextFor(tx, SYSTEM_ACTOR, now);
  }

  // ---- SessionServices (what handlers may use) ----

  get sessionId(): string {
    return this.loaded().sessionId;
  }
  get worldId(): string {
    return this.loaded().worldId;
  }
  get settings(): SessionSettings {
    return this.loaded().settings;
  }
  set settings(s: SessionSettings) {
    this.loaded().settings = s;
  }
  get seq(): number {
    return this.loaded().log.seq;
  }
  isKicked(participantId: string): boolean {
    return (this.loaded().roster.get(participantId)?.kicked_at ?? null) !== null;
  }
  participant(participantId: string): ParticipantRow | undefined {
    return this.loaded().roster.get(participantId);
  }
  roster(limit: number): ParticipantRow[] {
    return [...this.loaded().roster.values()].slice(0, limit);
  }
  rememberParticipant(row: ParticipantRow): void {
    this.loaded().roster.set(row.id, row);
  }
  onlineParticipantIds(except?: WebSocket): Set<string> {
    const ids = new Set<string>();
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      const a = this.attachment(ws);
      if (a.joined) ids.add(a.participant_id);
    }
    return ids;
  }
  closeParticipant(participantId: string, code: number, reason: AppError): void {
    for (const ws of this.ctx.getWebSockets(participantId)) this.refuse(ws, code, reason);
  }
  openStream(audience: Audience, id: string = crypto.randomUUID()): ServerStream {
    return new OutboundStream(id, audience, (to, frame) => this.sendTo(to, frame));
  }

  // ---- RPC from the Worker (auth routes) ----

  /** POST /auth/sessions: the session row, its world and its first DM, in one batch. */
  async createSession(input: { session_id: string; world_name: string; dm_name: string }) {
    const db = this.env.DB;
    const now = Date.now();
    const world_id = crypto.randomUUID();
    const invite_code = newInviteCode();
    const dm: ParticipantRow = { id: crypto.randomUUID(), version: 1, created_at: now, updated_at: now, world_id, name: input.dm_name, role: "dm", kicked_at: null };
    await db.batch([
      db
        .prepare("INSERT INTO sessions (id, world_id, invite_code, settings, seq, version, created_at, updated_at) VALUES (?,?,?,?,0,1,?,?)")
        .bind(input.session_id, world_id, invite_code, JSON.stringify(DEFAULT_SESSION_SETTINGS), now, now),
      db
        .prepare("INSERT INTO worlds (id, session_id, name, description, version, created_at, updated_at) VALUES (?,?,?,'',1,?,?)")
        .bind(world_id, input.session_id, input.world_name, now, now),
      participants.insert(db, { session_id: input.session_id, world_id }, dm),
    ]);
    await this.ctx.storage.put("session_id", input.session_id);
    return { world_id, invite_code, participant_id: dm.id };
  }

  /** POST /auth/join: a new participant of this session. */
  async addParticipant(input: { session_id: string; name: string; role: Role }): Promise<RpcResult<{ world_id: string; participant_id: string }>> {
    return this.rpc(input.session_id, async () => {
      const s = this.loaded();
      const now = Date.now();
      const row: ParticipantRow = { id: crypto.randomUUID(), version: 1, created_at: now, updated_at: now, world_id: s.worldId, name: input.name, role: input.role, kicked_at: null };
      await participants.insert(this.env.DB, { session_id: s.sessionId, world_id: s.worldId }, row).run();
      this.rememberParticipant(row);
      return { world_id: s.worldId, participant_id: row.id };
    });
  }

  /** POST /auth/refresh: is this participant still allowed in (exists, not kicked)? */
  async checkParticipant(input: { session_id: string; participant_id: string }): Promise<RpcResult<{ role: Role; world_id: string }>> {
    return this.rpc(input.session_id, async () => {
      const row = this.participant(input.participant_id);
      if (!row) throw new AppError("UNAUTHENTICATED", "unknown participant");
      if (row.kicked_at !== null) throw kickedError();
      return { role: row.role, world_id: row.world_id };
    });
  }

  /** Applies event-log retention now with explicit bounds (ops tooling and tests). */
  async trimEventLog(input: { session_id: string; min_events: number; min_age_ms: number }): Promise<RpcResult<{ oldest_seq: number | null }>> {
    return this.rpc(input.session_id, async () => {
      const log = this.loaded().log;
      await log.trim({ minEvents: input.min_events, minAgeMs: input.min_age_ms, requestTtlMs: this.limits.requestLogTtlMs }, Date.now());
      return { oldest_seq: await log.oldestSeq() };
    });
  }

  /** POST /assets, before the bytes are read and stored: may this participant upload to this target? */
  async checkUpload(input: { session_id: string; actor: Actor; target: UploadInput["target"] }): Promise<RpcResult<null>> {
    return this.rpc(input.session_id, async () => {
      const actor = this.uploader(input.actor);
      await authorizeUpload(this.contextFor(new Tx(), actor, Date.now()), input.target);
      return null;
    });
  }

  /**
   * POST /assets, once the bytes are in R2: the asset row, AssetCreated (and the target's image),
   * committed through the event log like any write. On error the Worker deletes the object.
   */
  async recordUpload(input: { session_id: string; actor: Actor; upload: UploadInput }): Promise<RpcResult<Asset>> {
    return this.rpc(input.session_id, async () => {
      const actor = this.uploader(input.actor);
      let asset: Asset | undefined;
      await this.writeQueued(actor.participant_id, async (tx, now) => {
        asset = await recordUpload(this.contextFor(tx, actor, now), input.upload);
        return true;
      });
      return asset!;
    });
  }

  /** The uploader as the roster knows it now (a kicked participant uploads nothing). */
  private uploader(claimed: Actor): Actor {
    const row = this.participant(claimed.participant_id);
    if (!row) throw new AppError("UNAUTHENTICATED", "unknown participant");
    if (row.kicked_at !== null) throw kickedError();
    return { participant_id: row.id, role: row.role };
  }

  /** A handler context for writes the session makes outside a socket request (uploads, timers). */
  private contextFor(tx: Tx, actor: Actor, now: number): HandlerContext {
    return { env: this.env, db: this.env.DB, limits: this.limits, actor, session: this, reads: this.reads, tx, now, jobs: this.jobs.service(tx, actor, now), timers: this.timers.service(tx) };
  }

  private async rpc<T>(sessionId: string, fn: () => Promise<T>): Promise<RpcResult<T>> {
    try {
      await this.ensureLoaded(sessionId);
      return { ok: true, value: await fn() };
    } catch (err) {
      return { ok: false, error: AppError.from(err).toBody() };
    }
  }

  // ---- WebSocket upgrade (identity already verified by the Worker) ----

  override async fetch(request: Request): Promise<Response> {
    const h = request.headers;
    const sessionId = h.get(IDENTITY_HEADERS.session) ?? "";
    const attachment: Attachment = {
      participant_id: h.get(IDENTITY_HEADERS.participant) ?? "",
      role: (h.get(IDENTITY_HEADERS.role) ?? "spectator") as Role,
      exp: Number(h.get(IDENTITY_HEADERS.exp) ?? 0),
      joined: false,
      opened_at: Date.now(),
    };
    try {
      await this.ensureLoaded(sessionId);
      if (this.isKicked(attachment.participant_id)) throw kickedError();
      this.admit(attachment);
    } catch (err) {
      const e = AppError.from(err);
      return Response.json(e.toBody(), { status: e.status });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [attachment.participant_id, `role:${attachment.role}`]);
    this.saveAttachment(server, attachment);
    this.watchSocket(attachment);
    const headers = new Headers();
    const offered = (h.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    if (offered.includes(WS_SUBPROTOCOL)) headers.set("sec-websocket-protocol", WS_SUBPROTOCOL);
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  // ---- Hibernation API handlers ----

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.guard("webSocketMessage", () => this.receive(ws, message));
  }

  /** One inbound frame: metered first (whatever it is), then read, then routed. */
  private async receive(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.ensureLoaded();
    const att = this.attachment(ws);
    this.seen.set(ws, Date.now());
    if (Date.now() >= att.exp) return this.refuse(ws, CLOSE_CODES.UNAUTHENTICATED, "token expired: refresh it and reconnect");
    if (this.isKicked(att.participant_id)) return this.refuse(ws, CLOSE_CODES.KICKED, kickedError());

    const text = typeof message === "string" ? message : "";
    const bytes = typeof message === "string" ? utf8Size(message, Math.min(this.limits.maxFrameBytes, this.limits.maxBatchFrameBytes)) : message.byteLength;
    // Answers a Request whose id can be seen cheaply, else sends an Error frame: for frames refused unread.
    const refuseFrame = (e: AppError) => {
      const id = peekRequestId(text);
      return id ? this.respond(ws, att.role, id, { status: "error", ...e.toBody() }) : this.send(ws, { type: "Error", ...e.toBody() });
    };
    const wait = this.meter(att.participant_id, 1 + Math.floor(bytes / METER_BYTES_PER_TOKEN));
    if (wait > 0) return refuseFrame(new AppError("RATE_LIMITED", `too many frames; retry in ${wait} ms`, { retry_after_ms: wait }));
    if (typeof message !== "string") return this.sendError(ws, "BAD_FRAME", "binary frames are not supported; send JSON text");
    if (bytes > this.limits.maxBatchFrameBytes) {
      return refuseFrame(new AppError("PAYLOAD_TOO_LARGE", `frame of ${bytes} bytes exceeds ${this.limits.maxBatchFrameBytes}`, { limit: this.limits.maxBatchFrameBytes }));
    }

    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return this.sendError(ws, "BAD_FRAME", "frame is not valid JSON");
    }
    const frameType = (json as { type?: unknown } | null)?.type;
    if (frameType === "Request") {
      const req = json as { request_id?: unknown; payload?: unknown };
      const id = RequestIdSchema.safeParse(req.request_id);
      if (!id.success) return this.sendError(ws, "BAD_FRAME", "Request has no usable request_id (a string of 1–128 characters)");
      const requestId = id.data;
      const fail = (e: AppError) => this.respond(ws, att.role, requestId, { status: "error", ...e.toBody() });
      const payload = req.payload as { type?: unknown } | undefined;
      if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
        return fail(invalidField("payload", "expected an object with a type"));
      }
      // Operations that carry many entities at once (Batch, ImportWorld) declare the larger cap.
      const limit = frameLimitOf(payload.type) === "batch" ? this.limits.maxBatchFrameBytes : this.limits.maxFrameBytes;
      if (bytes > limit) return fail(new AppError("PAYLOAD_TOO_LARGE", `frame of ${bytes} bytes exceeds ${limit}`, { limit }));
      const meter = this.meterOf(att.participant_id);
      if (meter.inflight >= this.limits.maxInflightPerParticipant) {
        const max = this.limits.maxInflightPerParticipant;
        return fail(new AppError("RATE_LIMITED", `${max} requests of this participant are already in progress`, { retry_after_ms: 100, limit: max }));
      }
      meter.inflight++;
      try {
        const actor = { participant_id: att.participant_id, role: att.role };
        await routeRequest(this.routerDeps(ws, att.role, requestId), actor, requestId, payload);
      } finally {
        meter.inflight--;
      }
      this.scheduleFlush();
      return;
    }
    const frame = ClientFrameSchema.safeParse(json);
    if (!frame.success) return this.sendError(ws, "BAD_FRAME", `not a client frame: ${frame.error.issues[0]?.message ?? "unknown type"}`);
    if (frame.data.type === "JoinSession") return this.join(ws, att, frame.data.last_seq);
    // Ack: the log in D1 is every client's buffer, so there is nothing to trim per connection.
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.guard("webSocketClose", async () => {
      try {
        ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      } catch {
        // already closed
      }
      await this.left(ws);
    });
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.guard("webSocketError", () => this.left(ws));
  }

  /** The one alarm: the scheduler runs what is due and arms it again for the earliest entry left. */
  override async alarm(): Promise<void> {
    try {
      await this.ensureLoaded();
    } catch (err) {
      // D1 unreachable: throw, and the runtime retries the alarm with backoff.
      if (!(err instanceof AppError && err.code === "NOT_FOUND")) throw err;
      // No session behind this object (never created): nothing to do, nothing to retry.
      console.error(JSON.stringify({ msg: "alarm without a session", error: String(err) }));
      return;
    }
    await this.scheduler.run();
  }

  // ---- internals ----

  private loaded() {
    if (!this.state) throw new AppError("INTERNAL", "session not loaded");
    return this.state;
  }

  /** Loads the session from D1 once per instance (after creation, wake or eviction). */
  private async ensureLoaded(sessionId?: string): Promise<void> {
    if (this.state) {
      if (sessionId && sessionId !== this.state.sessionId) throw new AppError("FORBIDDEN", "token is for another session");
      return;
    }
    this.loading ??= (async () => {
      const id = sessionId || (await this.ctx.storage.get<string>("session_id"));
      if (!id) throw new AppError("NOT_FOUND", "session not found");
      const db = this.env.DB;
      const row = await db.prepare("SELECT world_id, settings, seq FROM sessions WHERE id = ?").bind(id).first<{ world_id: string; settings: string; seq: number }>();
      if (!row) throw new AppError("NOT_FOUND", `session '${id}' not found`);
      const { results } = await db.prepare("SELECT * FROM participants WHERE session_id = ? ORDER BY created_at, id").bind(id).all<Record<string, unknown>>();
      // Remember the id, so that a wake from hibernation (no Worker call) can load it again.
      if (sessionId && (await this.ctx.storage.get<string>("session_id")) !== id) await this.ctx.storage.put("session_id", id);
      const settings = SessionSettingsSchema.parse({ ...DEFAULT_SESSION_SETTINGS, ...JSON.parse(row.settings) });
      const roster = new Map(results.map((r) => participants.fromRow(r)).map((p) => [p.id, p] as const));
      this.state = { sessionId: id, worldId: row.world_id, settings, roster, log: new EventLog(db, id, row.seq) };
      this.lastTrimSeq = row.seq;
      this.broadcastSeq = row.seq;
      // A fresh instance runs no job: any still leased was cut off by a restart; pick it up now.
      this.jobs.expediteLeases(Date.now());
    })().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  /** One writer at a time: commits (and joins, which must not interleave with them) queue here. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private routerDeps(ws: WebSocket, role: Role, requestId: string): RouterDeps {
    return {
      env: this.env,
      db: this.env.DB,
      limits: this.limits,
      session: this,
      log: this.loaded().log,
      metrics: this.metrics,
      reads: this.reads,
      writes: this.writes,
      logRequest: this.logRequest,
      deadlines: this.deadlines,
      deliver: (result, events) => {
        this.respond(ws, role, requestId, result);
        this.broadcast(events);
      },
      afterCommit: () => this.maybeTrim(),
      jobs: (tx, actor, now) => this.jobs.service(tx, actor, now),
      timers: (tx) => this.timers.service(tx),
    };
  }

  /**
   * JoinSession: replay what this participant may see after last_seq, then go live. Runs beside the
   * write queue, never in it: it replays up to the last broadcast seq (again while commits move it
   * on), and turns live in the same synchronous step as its last check, so every event arrives
   * exactly once — replayed if broadcast before, live if after.
   */
  private async join(ws: WebSocket, att: Attachment, lastSeq: number | undefined): Promise<void> {
    if (att.joined || this.joining.has(ws)) {
      return this.sendError(ws, "CONFLICT", "this connection has already joined the session", { reason: "already_joined" });
    }
    this.joining.add(ws);
    try {
      const { log } = this.loaded();
      let resume: "replayed" | "snapshot" = "snapshot";
      let count = 0;
      let upTo = this.broadcastSeq;
      const replayable = lastSeq !== undefined && lastSeq <= upTo && upTo - lastSeq <= this.limits.replayMaxEvents;
      if (replayable && (lastSeq === upTo || lastSeq >= ((await log.oldestSeq()) ?? Infinity) - 1)) {
        resume = "replayed";
        upTo = lastSeq;
        while (upTo < this.broadcastSeq) {
          const until = this.broadcastSeq;
          for await (const e of log.between(upTo, until)) {
            if (!inAudience(e.audience, att.participant_id, att.role)) continue;
            this.sendRaw(ws, this.eventFrame(e, att.role));
            count++;
          }
          upTo = until;
        }
        this.metrics.replayedEvent(count);
      }
      if (ws.readyState !== WebSocket.OPEN) return;
      // From here to the send of SessionJoined nothing awaits: no broadcast can slip in between.
      const wasOnline = this.onlineParticipantIds(ws).has(att.participant_id);
      att.joined = true;
      this.saveAttachment(ws, att);
      const online = this.onlineParticipantIds();
      const participant = toParticipant(requireParticipant(this, att.participant_id), this, online);
      this.send(ws, {
        type: "SessionJoined",
        session_id: this.sessionId,
        world_id: this.worldId,
        participant,
        participants: this.roster(ROSTER_PAGE).map((r) => toParticipant(r, this, online)),
        seq: resume === "replayed" ? upTo : this.broadcastSeq,
        resume,
        replayed_events: count,
      });
      if (!wasOnline) await this.serial(() => this.commitSystem(new Tx().emit({ type: "ParticipantJoined", participant }, ALL), att.participant_id));
    } finally {
      this.joining.delete(ws);
    }
  }

  /** A socket went away: when it was its participant's last, everyone learns it left. */
  private async left(ws: WebSocket): Promise<void> {
    await this.ensureLoaded();
    const att = this.attachment(ws);
    if (!att.joined) return;
    att.joined = false;
    this.attachments.set(ws, att);
    if (this.onlineParticipantIds(ws).has(att.participant_id)) return;
    await this.serial(() => this.commitSystem(new Tx().emit({ type: "ParticipantLeft", participant_id: att.participant_id }, ALL), att.participant_id));
  }

  /** Commits events the session itself causes (no request), then broadcasts them. */
  private async commitSystem(tx: Tx, participantId: string): Promise<void> {
    try {
      const stored = await this.loaded().log.commit(tx, { request_id: null, participant_id: participantId }, null, Date.now());
      tx.runCommitted();
      this.broadcast(stored);
    } catch (err) {
      console.error(JSON.stringify({ msg: "system commit failed", error: String(err) }));
    }
  }

  /**
   * A write the session causes on its own (a job's progress): `build` reads and fills the Tx inside
   * the write queue; it commits unless `build` returns false. Rejects when the commit fails.
   */
  private writeQueued(participantId: string | null, build: (tx: Tx, now: number) => Promise<boolean>): Promise<boolean> {
    return this.serial(async () => {
      const tx = new Tx();
      const now = Date.now();
      if (!(await build(tx, now))) return false;
      this.reads.invalidate();
      let stored: StoredEvent[];
      try {
        stored = await this.loaded().log.commit(tx, { request_id: null, participant_id: participantId }, null, now);
      } finally {
        this.reads.invalidate();
      }
      tx.runCommitted();
      this.broadcast(stored);
      this.maybeTrim();
      return true;
    });
  }

  /** A serialized frame to every joined socket whose participant is in the audience (streams). */
  private sendTo(audience: Audience, frame: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      const att = this.attachment(ws);
      if (att.joined && inAudience(audience, att.participant_id, att.role)) this.sendRaw(ws, frame);
    }
  }

  /**
   * Per socket only what must be: a map lookup for its attachment, the audience check (skipped
   * for events to everyone), the outbound budget (one clock read for the whole broadcast) and the
   * send. Each event is serialized at most twice (DM view, player view), whatever the socket count.
   */
  private broadcast(events: StoredEvent[]): void {
    if (events.length === 0) return;
    this.broadcastSeq = Math.max(this.broadcastSeq, events[events.length - 1]!.seq);
    const frames = events.map(() => ({ dm: undefined as string | undefined, other: undefined as string | undefined }));
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const att = this.attachment(ws);
      if (!att.joined) continue;
      const isDm = att.role === "dm";
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        if (e.audience.kind !== "all" && !inAudience(e.audience, att.participant_id, att.role)) continue;
        const f = frames[i]!;
        this.outbound.send(ws, isDm ? (f.dm ??= this.eventFrame(e, "dm")) : (f.other ??= this.eventFrame(e, att.role)), now);
      }
    }
  }

  /**
   * An event as one role may see it. An event that cannot be serialized (validation should make
   * that impossible) becomes an Error frame naming its seq, so only that frame is lost — and the
   * client knows which one — instead of the broadcast or the replay stopping there.
   */
  private eventFrame(e: StoredEvent, role: Role): string {
    try {
      return JSON.stringify({ type: "Event", seq: e.seq, event: viewFor(role, e.event), cause: e.cause });
    } catch (err) {
      console.error(JSON.stringify({ msg: "event not serializable", seq: e.seq, type: e.event.type, error: String(err) }));
      return JSON.stringify({ type: "Error", ...new AppError("INTERNAL", `event ${e.seq} could not be delivered; reload with GetSessionSnapshot`, { seq: e.seq }).toBody() });
    }
  }

  /** Sends a Response, split into ResponseChunks when larger than the outbound frame limit. */
  private respond(ws: WebSocket, role: Role, requestId: string, result: Result): void {
    let body: string;
    try {
      body = JSON.stringify(viewFor(role, result));
    } catch (err) {
      // Only this response is lost: the request still gets exactly one answer.
      console.error(JSON.stringify({ msg: "response not serializable", request_id: requestId, error: String(err) }));
      body = JSON.stringify({ status: "error", ...new AppError("INTERNAL", "the response could not be serialized").toBody() });
    }
    const max = this.limits.maxOutboundFrameBytes;
    if (utf8Size(body, max - 200) + 200 <= max) {
      this.sendRaw(ws, `{"type":"Response","request_id":${JSON.stringify(requestId)},"result":${body}}`);
      return;
    }
    const size = Math.max(1024, Math.floor((max - 200) / 3)); // chars: ≤ 3 UTF-8 bytes each
    const total = Math.ceil(body.length / size);
    for (let i = 0; i < total; i++) {
      this.send(ws, { type: "ResponseChunk", request_id: requestId, index: i, total, data: body.slice(i * size, (i + 1) * size) });
    }
    this.send(ws, { type: "Response", request_id: requestId, chunks: total });
  }

  private refuse(ws: WebSocket, code: number, reason: string | AppError): void {
    const e = typeof reason === "string" ? new AppError("UNAUTHENTICATED", reason) : reason;
    this.outbound.sendFinal(ws, JSON.stringify({ type: "Error", ...e.toBody() }));
    try {
      ws.close(code, e.message);
    } catch {
      // already closing
    }
  }

  private sendError(ws: WebSocket, code: ErrorBody["code"], message: string, details?: Record<string, unknown>): void {
    this.send(ws, { type: "Error", ...new AppError(code, message, details).toBody() });
  }

  private send(ws: WebSocket, frame: unknown): void {
    this.sendRaw(ws, JSON.stringify(frame));
  }

  private sendRaw(ws: WebSocket, text: string): void {
    this.outbound.send(ws, text);
  }

  private attachment(ws: WebSocket): Attachment {
    let a = this.attachments.get(ws);
    if (!a) {
      a = ws.deserializeAttachment() as Attachment;
      this.attachments.set(ws, a);
    }
    return a;
  }

  private saveAttachment(ws: WebSocket, a: Attachment): void {
    ws.serializeAttachment(a);
    this.attachments.set(ws, a);
  }

  private meterOf(participantId: string) {
    let m = this.meters.get(participantId);
    if (!m) this.meters.set(participantId, (m = { tokens: this.limits.rateBurst, at: Date.now(), inflight: 0 }));
    return m;
  }

  /**
   * Token bucket per participant (every socket of it draws from the same one): takes `cost` tokens
   * and returns 0, or returns the ms until they will be there (taking nothing).
   */
  private meter(participantId: string, cost: number): number {
    const { ratePerSecond: rate, rateBurst: burst } = this.limits;
    const now = Date.now();
    const m = this.meterOf(participantId);
    m.tokens = Math.min(burst, m.tokens + ((now - m.at) / 1000) * rate);
    m.at = now;
    const need = Math.min(cost, burst);
    if (m.tokens >= need) {
      m.tokens -= need;
      return 0;
    }
    return Math.max(1, Math.ceil(((need - m.tokens) / rate) * 1000));
  }

  /**
   * Admission of a new socket: the session cap, with the last `dmReservedSockets` places for DMs
   * only; and the participant's own cap. A participant at its cap gives up sockets that have shown
   * no life for STALE_SOCKET_MS (most likely dead links of a flaky phone); when none is stale, the
   * new socket is refused (retryable), so live tabs never take turns evicting each other.
   */
  private admit(a: Attachment): void {
    const { maxSockets, dmReservedSockets, maxSocketsPerParticipant: perParticipant } = this.limits;
    const total = this.ctx.getWebSockets().length;
    const cap = a.role === "dm" ? maxSockets : Math.max(0, maxSockets - dmReservedSockets);
    if (total >= cap) {
      throw new AppError("UNAVAILABLE", `session is full (${cap} connections${a.role === "dm" ? "" : ` for non-DMs; ${dmReservedSockets} kept for DMs`})`, {
        reason: "session_full",
        limit: cap,
      });
    }
    const own = this.ctx.getWebSockets(a.participant_id);
    if (own.length < perParticipant) return;
    const now = Date.now();
    const stale = own
      .map((ws) => ({ ws, seen: this.lastSeen(ws) }))
      .filter((x) => now - x.seen >= STALE_SOCKET_MS)
      .sort((x, y) => x.seen - y.seen)
      .slice(0, own.length - perParticipant + 1);
    if (own.length - stale.length >= perParticipant) {
      throw new AppError("UNAVAILABLE", `this participant already has ${perParticipant} open connections`, { reason: "too_many_connections", limit: perParticipant });
    }
    for (const { ws } of stale) {
      this.refuse(ws, CLOSE_CODES.REPLACED, new AppError("CONFLICT", `replaced by a newer connection (at most ${perParticipant} per participant)`, { reason: "replaced" }));
    }
  }

  /** The last sign of life of a socket: a frame it sent, a heartbeat the runtime answered, or its opening. */
  private lastSeen(ws: WebSocket): number {
    const pong = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    return Math.max(pong, this.seen.get(ws) ?? 0, this.attachment(ws).opened_at ?? 0);
  }

  /**
   * The one try/catch of each runtime entry point: a failure is logged with its entry and never
   * escapes into the runtime (which would break the socket or the alarm's retries for everyone).
   */
  private async guard(entry: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      console.error(JSON.stringify({ msg: "entry point failed", entry, error: String(err), stack: (err as Error)?.stack }));
    }
  }

  /** Counters reach D1 at most METRICS_FLUSH_MS after the first change since the last flush. */
  private scheduleFlush(): void {
    if (!this.metrics.dirty) return;
    this.scheduler.schedule(DUTY.flush, DUTY.flush, Date.now() + METRICS_FLUSH_MS, null, "earliest");
  }

  /** Every TRIM_EVERY_EVENTS events, retention runs as a duty (retried if D1 fails). */
  private maybeTrim(): void {
    const { log } = this.loaded();
    if (log.seq - this.lastTrimSeq < TRIM_EVERY_EVENTS) return;
    this.lastTrimSeq = log.seq;
    this.scheduler.schedule(DUTY.trim, DUTY.trim, Date.now(), null, "earliest");
  }

  private trimNow(): Promise<void> {
    const l = this.limits;
    return this.loaded().log.trim({ minEvents: l.eventLogMinEvents, minAgeMs: l.eventLogMinAgeMs, requestTtlMs: l.requestLogTtlMs }, Date.now());
  }

  // ---- socket timers: token expiry and join timeout, one scheduler entry for all sockets ----

  /** When this socket must be looked at: its join deadline (until joined), its token expiry. */
  private socketDeadline(att: Attachment): number {
    const join = att.joined || att.opened_at === undefined ? Infinity : att.opened_at + this.limits.joinTimeoutMs;
    return Math.min(join, att.exp);
  }

  private watchSocket(att: Attachment): void {
    const due = this.socketDeadline(att);
    if (Number.isFinite(due)) this.scheduler.schedule(DUTY.sweep, DUTY.sweep, due, null, "earliest");
  }

  /**
   * Closes every socket whose token expired (4001, even if it never sends anything again) or
   * that has not joined in time (4008), then schedules itself for the next deadline.
   */
  private sweepSockets(now: number): void {
    let next = Infinity;
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const att = this.attachment(ws);
      if (now >= att.exp) {
        this.refuse(ws, CLOSE_CODES.UNAUTHENTICATED, "token expired: refresh it and reconnect");
      } else if (!att.joined && att.opened_at !== undefined && now >= att.opened_at + this.limits.joinTimeoutMs) {
        const ms = this.limits.joinTimeoutMs;
        this.refuse(ws, CLOSE_CODES.JOIN_TIMEOUT, new AppError("TIMEOUT", `no JoinSession within ${ms} ms of connecting`, { reason: "join_timeout", limit_ms: ms }));
      } else {
        next = Math.min(next, this.socketDeadline(att));
      }
    }
    if (Number.isFinite(next)) this.scheduler.schedule(DUTY.sweep, DUTY.sweep, next);
  }
}
