import type { Limits } from "../env";
import { AppError, CLOSE_CODES, WS_SUBPROTOCOL, type Role } from "../protocol";
import { Delivery, type Attachment } from "./delivery";
import type { Scheduler } from "./scheduler";

/** Identity the Worker verified from the token and hands over with the upgrade. */
export const IDENTITY_HEADERS = {
  session: "x-wb-session",
  participant: "x-wb-participant",
  role: "x-wb-role",
  exp: "x-wb-exp",
} as const;

/**
 * A kicked participant's token is genuine but no longer welcome: FORBIDDEN (HTTP 403, close 4003)
 * tells clients to stop, where UNAUTHENTICATED (401, 4001) would invite a token refresh.
 */
export const kickedError = () => new AppError("FORBIDDEN", "the participant was kicked from this session", { reason: "kicked" });

/** A socket without a sign of life for this long may be replaced by its participant's new one. */
const STALE_SOCKET_MS = 60_000;
/** The scheduler kind (and entry id) of the sweep of sockets past their deadlines. */
export const SWEEP = "sockets.sweep";

/**
 * The object's sockets: their attachments (identity, survives hibernation), admission (the
 * session's cap with places kept for DMs, each participant's own cap), signs of life, and one
 * scheduler entry that closes sockets whose token expired or that never joined.
 */
export class Connections {
  private readonly attachments = new WeakMap<WebSocket, Attachment>();
  /** When each socket last sent a frame (this instance's memory; after a wake, heartbeats tell). */
  private readonly seen = new WeakMap<WebSocket, number>();
  /** What is sent to these sockets (it reads their attachments). */
  readonly delivery: Delivery;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly limits: Limits,
    private readonly scheduler: Scheduler,
  ) {
    this.delivery = new Delivery(ctx, limits, (ws) => this.attachment(ws));
  }

  /**
   * The upgrade: admits the socket (throws the refusal) and accepts it hibernatable, tagged by
   * participant and role, with the identity the Worker verified as its attachment.
   */
  upgrade(request: Request, isKicked: (participantId: string) => boolean): Response {
    const h = request.headers;
    const a: Attachment = {
      participant_id: h.get(IDENTITY_HEADERS.participant) ?? "",
      role: (h.get(IDENTITY_HEADERS.role) ?? "spectator") as Role,
      exp: Number(h.get(IDENTITY_HEADERS.exp) ?? 0),
      joined: false,
      opened_at: Date.now(),
    };
    if (isKicked(a.participant_id)) throw kickedError();
    this.admit(a);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [a.participant_id, `role:${a.role}`]);
    this.save(server, a);
    this.watch(a);
    const headers = new Headers();
    const offered = (h.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    if (offered.includes(WS_SUBPROTOCOL)) headers.set("sec-websocket-protocol", WS_SUBPROTOCOL);
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  attachment(ws: WebSocket): Attachment {
    let a = this.attachments.get(ws);
    if (!a) {
      a = ws.deserializeAttachment() as Attachment;
      this.attachments.set(ws, a);
    }
    return a;
  }

  save(ws: WebSocket, a: Attachment): void {
    ws.serializeAttachment(a);
    this.attachments.set(ws, a);
  }

  /** In memory only (a socket that left): the attachment is not worth a write any more. */
  forget(ws: WebSocket, a: Attachment): void {
    this.attachments.set(ws, a);
  }

  markSeen(ws: WebSocket, now: number): void {
    this.seen.set(ws, now);
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
    for (const ws of this.ctx.getWebSockets(participantId)) this.delivery.refuse(ws, code, reason);
  }

  /**
   * Admission of a new socket: the session cap, with the last `dmReservedSockets` places for DMs
   * only; and the participant's own cap. A participant at its cap gives up sockets that have shown
   * no life for STALE_SOCKET_MS (most likely dead links of a flaky phone); when none is stale, the
   * new socket is refused (retryable), so live tabs never take turns evicting each other.
   */
  admit(a: Attachment): void {
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
      throw new AppError("UNAVAILABLE", `this participant already has ${perParticipant} open connections`, {
        reason: "too_many_connections",
        limit: perParticipant,
      });
    }
    for (const { ws } of stale) {
      this.delivery.refuse(
        ws,
        CLOSE_CODES.REPLACED,
        new AppError("CONFLICT", `replaced by a newer connection (at most ${perParticipant} per participant)`, { reason: "replaced" }),
      );
    }
  }

  /** The last sign of life of a socket: a frame it sent, a heartbeat the runtime answered, or its opening. */
  private lastSeen(ws: WebSocket): number {
    const pong = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    return Math.max(pong, this.seen.get(ws) ?? 0, this.attachment(ws).opened_at ?? 0);
  }

  // ---- token expiry and join timeout: one scheduler entry for all sockets ----

  /** When this socket must be looked at: its join deadline (until joined), its token expiry. */
  private deadline(att: Attachment): number {
    const join = att.joined || att.opened_at === undefined ? Infinity : att.opened_at + this.limits.joinTimeoutMs;
    return Math.min(join, att.exp);
  }

  private watch(att: Attachment): void {
    const due = this.deadline(att);
    if (Number.isFinite(due)) this.scheduler.schedule(SWEEP, SWEEP, due, null, "earliest");
  }

  /**
   * Closes every socket whose token expired (4001, even if it never sends anything again) or
   * that has not joined in time (4008), then schedules itself for the next deadline.
   */
  sweep(now: number): void {
    let next = Infinity;
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const att = this.attachment(ws);
      if (now >= att.exp) {
        this.delivery.refuse(ws, CLOSE_CODES.UNAUTHENTICATED, "token expired: refresh it and reconnect");
      } else if (!att.joined && att.opened_at !== undefined && now >= att.opened_at + this.limits.joinTimeoutMs) {
        const ms = this.limits.joinTimeoutMs;
        this.delivery.refuse(
          ws,
          CLOSE_CODES.JOIN_TIMEOUT,
          new AppError("TIMEOUT", `no JoinSession within ${ms} ms of connecting`, { reason: "join_timeout", limit_ms: ms }),
        );
      } else {
        next = Math.min(next, this.deadline(att));
      }
    }
    if (Number.isFinite(next)) this.scheduler.schedule(SWEEP, SWEEP, next);
  }
}
