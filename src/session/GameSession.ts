import { DurableObject } from "cloudflare:workers";
import { limits, type Env, type Limits } from "../env";
import type { ParticipantRow } from "../engine/participants";
import type { ServerStream, SessionServices } from "../engine/context";
import { AppError, UPLOAD_EVENTS, type Asset, type ErrorBody, type Role, type SessionSettings } from "../protocol";
import { EventLog } from "./eventlog";
import { Metrics } from "./metrics";
import { ReadCache } from "../engine/read-cache";
import { routeRequest } from "./router";
import { Tx, type Audience } from "../engine/tx";
import { addParticipant, createSessionRows, loadSessionState } from "../domain/session";
import { Upkeep } from "./upkeep";
import { HOOKS, JOB_KINDS, TIMER_KINDS } from "../domain/registry";
import { Deadlines } from "./deadlines";
import { Scheduler } from "./scheduler";
import { OutboundStream } from "./streams";
import { JOB_LEASE, JobRunner } from "./jobs";
import { requestLogPolicy, type RequestLogPolicy } from "./request-log";
import { DOMAIN_TIMER, DomainTimers } from "./timers";
import { SYSTEM_ACTOR } from "../engine/timers";
import { authorizeUpload, recordUpload, type UploadInput } from "../domain/assets";
import type { Actor } from "../engine/authorize";
import { Connections, IDENTITY_HEADERS, SWEEP, kickedError } from "./connections";
import { Intake } from "./intake";
import { Joins } from "./join";
import { Pipeline } from "./pipeline";

export { IDENTITY_HEADERS };

export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

/**
 * One game session: a thin lifecycle shell. Each runtime entry point (fetch, webSocketMessage,
 * webSocketClose/Error, alarm, the Worker's RPCs) is guarded once and hands on to a room of its
 * own: `Connections` (admission, attachments, the sweep) with its `Delivery` (frames out),
 * `Intake` (frames in), `Joins` (JoinSession, replay, leaving), `Pipeline` (every write),
 * `JobRunner`, `DomainTimers` and the `Scheduler` (the one alarm).
 *
 * The only writer of its session's rows in D1. Everything that must survive lives in D1 or in
 * socket attachments; memory only caches (seq, settings, the roster) and is rebuilt on wake.
 */
export class GameSession extends DurableObject<Env> implements SessionServices {
  private readonly limits: Limits;
  private state?: { sessionId: string; worldId: string; settings: SessionSettings; roster: Map<string, ParticipantRow>; log: EventLog };
  private loading?: Promise<void>;
  private readonly metrics = new Metrics();
  private readonly reads = new ReadCache();
  private readonly logRequest: RequestLogPolicy;
  private readonly scheduler: Scheduler;
  private readonly connections: Connections;
  private readonly pipeline: Pipeline;
  private readonly jobs: JobRunner;
  private readonly timers: DomainTimers;
  private readonly intake: Intake;
  private readonly joins: Joins;
  private readonly upkeep: Upkeep;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const lim = (this.limits = limits(env));
    this.logRequest = requestLogPolicy(env.LOG_REQUESTS);
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.upkeep = new Upkeep({
      db: env.DB,
      limits: lim,
      metrics: this.metrics,
      scheduler: () => this.scheduler,
      log: () => this.log(),
      sockets: () => ctx.getWebSockets().length,
    });
    this.scheduler = new Scheduler(
      ctx.storage,
      {
        ...this.upkeep.duties,
        [SWEEP]: () => this.connections.sweep(Date.now()),
        [JOB_LEASE]: (data) => this.jobs.onLease(data),
        [DOMAIN_TIMER]: (data) => this.timers.fire(data),
      },
      { maxAttempts: lim.dutyMaxAttempts },
    );
    this.connections = new Connections(ctx, lim, this.scheduler);
    const delivery = this.connections.delivery;
    this.pipeline = new Pipeline({
      env,
      limits: lim,
      session: this,
      reads: this.reads,
      deadlines: new Deadlines(),
      hooks: HOOKS,
      log: () => this.log(),
      jobs: (tx, actor, now) => this.jobs.service(tx, actor, now),
      timers: (tx) => this.timers.service(tx),
      broadcast: (events) => delivery.broadcast(events),
      afterCommit: () => this.upkeep.afterCommit(),
      replayed: () => this.metrics.replayedRequest(),
    });
    this.jobs = new JobRunner({
      env,
      limits: lim,
      db: env.DB,
      session: this,
      scheduler: this.scheduler,
      kinds: JOB_KINDS,
      openStream: (audience, id) => this.openStream(audience, id),
      pipeline: this.pipeline,
    });
    this.timers = new DomainTimers({ scheduler: this.scheduler, kinds: TIMER_KINDS, pipeline: this.pipeline });
    this.intake = new Intake({
      limits: lim,
      connections: this.connections,
      isKicked: (id) => this.isKicked(id),
      join: (ws, att, lastSeq) => this.joins.join(ws, att, lastSeq),
      request: async (ws, att, actor, requestId, payload) => {
        const answer = (result: Parameters<typeof delivery.respond>[3]) => delivery.respond(ws, att.role, requestId, result);
        await routeRequest(
          { limits: lim, session: this, metrics: this.metrics, pipeline: this.pipeline, logRequest: this.logRequest, answer },
          actor,
          requestId,
          payload,
        );
        this.upkeep.afterRequest();
      },
    });
    this.joins = new Joins({
      limits: lim,
      session: this,
      connections: this.connections,
      pipeline: this.pipeline,
      metrics: this.metrics,
      log: () => this.log(),
    });
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
    return this.log().seq;
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
  onlineParticipantIds(): Set<string> {
    return this.connections.onlineParticipantIds();
  }
  closeParticipant(participantId: string, code: number, reason: AppError): void {
    this.connections.closeParticipant(participantId, code, reason);
  }
  openStream(audience: Audience, id: string = crypto.randomUUID()): ServerStream {
    return new OutboundStream(id, audience, (to, frame) => this.connections.delivery.sendTo(to, frame));
  }

  // ---- RPC from the Worker (auth and asset routes) ----

  /** POST /auth/sessions: the session row, its world and its first DM (before the session exists). */
  async createSession(input: { session_id: string; world_name: string; dm_name: string }) {
    const created = await createSessionRows(this.env.DB, input, Date.now());
    await this.ctx.storage.put("session_id", input.session_id);
    return created;
  }

  /** POST /auth/join: a new participant of this session. */
  async addParticipant(input: { session_id: string; name: string; role: Role }): Promise<RpcResult<{ world_id: string; participant_id: string }>> {
    return this.rpc(input.session_id, async () => {
      const { data: row } = await this.pipeline.write(SYSTEM_ACTOR, "AddParticipant", [], async (ctx) => addParticipant(ctx, input));
      return { world_id: this.worldId, participant_id: row.id };
    });
  }

  /** POST /auth/refresh: is this participant still allowed in (exists, not kicked)? */
  async checkParticipant(input: { session_id: string; participant_id: string }): Promise<RpcResult<{ role: Role; world_id: string }>> {
    return this.rpc(input.session_id, async () => {
      const row = this.currentActor({ participant_id: input.participant_id, role: "spectator" });
      return { role: row.role, world_id: this.worldId };
    });
  }

  /** Applies event-log retention now with explicit bounds (ops tooling and tests). */
  async trimEventLog(input: { session_id: string; min_events: number; min_age_ms: number }): Promise<RpcResult<{ oldest_seq: number | null }>> {
    return this.rpc(input.session_id, async () => {
      await this.log().trim({ minEvents: input.min_events, minAgeMs: input.min_age_ms, requestTtlMs: this.limits.requestLogTtlMs }, Date.now());
      return { oldest_seq: await this.log().oldestSeq() };
    });
  }

  /** POST /assets, before the bytes are read and stored: may this participant upload to this target? */
  async checkUpload(input: { session_id: string; actor: Actor; target: UploadInput["target"] }): Promise<RpcResult<null>> {
    return this.rpc(input.session_id, async () => {
      await authorizeUpload(this.pipeline.context(new Tx(), this.currentActor(input.actor), Date.now()), input.target);
      return null;
    });
  }

  /** POST /assets, once the bytes are in R2: the asset row and its events, through the pipeline. On error the Worker deletes the object. */
  async recordUpload(input: { session_id: string; actor: Actor; upload: UploadInput }): Promise<RpcResult<Asset>> {
    return this.rpc(
      input.session_id,
      async () => (await this.pipeline.write(this.currentActor(input.actor), "upload", UPLOAD_EVENTS, (ctx) => recordUpload(ctx, input.upload))).data,
    );
  }

  /** The participant as the roster knows it now (a kicked participant does nothing). */
  private currentActor(claimed: Actor): Actor {
    const row = this.participant(claimed.participant_id);
    if (!row) throw new AppError("UNAUTHENTICATED", "unknown participant");
    if (row.kicked_at !== null) throw kickedError();
    return { participant_id: row.id, role: row.role };
  }

  private async rpc<T>(sessionId: string, fn: () => Promise<T>): Promise<RpcResult<T>> {
    try {
      await this.ensureLoaded(sessionId);
      return { ok: true, value: await fn() };
    } catch (err) {
      return { ok: false, error: AppError.from(err).toBody() };
    }
  }

  // ---- runtime entry points ----

  /** The WebSocket upgrade (identity already verified by the Worker). */
  override async fetch(request: Request): Promise<Response> {
    try {
      await this.ensureLoaded(request.headers.get(IDENTITY_HEADERS.session) ?? "");
      return this.connections.upgrade(request, (id) => this.isKicked(id));
    } catch (err) {
      const e = AppError.from(err);
      return Response.json(e.toBody(), { status: e.status });
    }
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.guard("webSocketMessage", async () => {
      await this.ensureLoaded();
      await this.intake.receive(ws, message);
    });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.guard("webSocketClose", async () => {
      try {
        ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      } catch {
        // already closed
      }
      await this.ensureLoaded();
      await this.joins.left(ws);
    });
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.guard("webSocketError", async () => {
      await this.ensureLoaded();
      await this.joins.left(ws);
    });
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

  /**
   * The one try/catch of each socket entry point: a failure is logged with its entry and never
   * escapes into the runtime (which would break the socket for everyone).
   */
  private async guard(entry: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      console.error(JSON.stringify({ msg: "entry point failed", entry, error: String(err), stack: (err as Error)?.stack }));
    }
  }

  // ---- load and duties ----

  private loaded() {
    if (!this.state) throw new AppError("INTERNAL", "session not loaded");
    return this.state;
  }

  private log(): EventLog {
    return this.loaded().log;
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
      const s = await loadSessionState(this.env.DB, id);
      // Remember the id, so that a wake from hibernation (no Worker call) can load it again.
      if (sessionId && (await this.ctx.storage.get<string>("session_id")) !== id) await this.ctx.storage.put("session_id", id);
      this.state = { sessionId: id, worldId: s.worldId, settings: s.settings, roster: s.roster, log: new EventLog(this.env.DB, id, s.seq) };
      this.upkeep.loaded(s.seq);
      this.connections.delivery.broadcastSeq = s.seq;
      // A fresh instance runs no job: any still leased was cut off by a restart; pick it up now.
      this.jobs.expediteLeases(Date.now());
    })().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }
}
