import type { Limits } from "../env";
import type { Audience } from "../engine/tx";
import { AppError, CLOSE_CODES, type ErrorBody, type Result, type Role } from "../protocol";
import type { StoredEvent } from "./eventlog";
import { Outbound } from "./outbound";
import { inAudience, viewFor } from "./redact";

/** Per-connection identity, kept in the socket attachment so it survives hibernation. */
export interface Attachment {
  participant_id: string;
  role: Role;
  /** Token expiry, ms since epoch: checked on every message. */
  exp: number;
  /** Set by JoinSession: only joined sockets receive events. */
  joined: boolean;
  /** When the upgrade was accepted: JoinSession is due within JOIN_TIMEOUT_MS, and a participant over its socket cap loses its oldest. */
  opened_at: number;
}

const encoder = new TextEncoder();

/**
 * The UTF-8 size of `s`, exactly — except when it cannot exceed `below` (every UTF-16 unit is at
 * most 3 bytes), where its length is returned without encoding: enough for comparisons with limits
 * of at least `below`.
 */
export function utf8Size(s: string, below: number): number {
  return s.length * 3 <= below ? s.length : encoder.encode(s).byteLength;
}

/**
 * Everything the object sends: events to their audiences (redacted per role), Responses (split
 * into chunks when large), streams, errors and the last frame before a close. Every frame to a
 * socket goes through its outbound budget.
 */
export class Delivery {
  /** The highest seq broadcast so far: joins replay up to it, later events reach them live. */
  broadcastSeq = 0;
  private readonly outbound: Outbound;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly limits: Limits,
    private readonly attachment: (ws: WebSocket) => Attachment,
  ) {
    this.outbound = new Outbound({ burstBytes: limits.outboundBurstBytes, bytesPerSecond: limits.outboundBytesPerSecond }, (ws) =>
      this.refuse(
        ws,
        CLOSE_CODES.OUTBOUND_BACKLOG,
        new AppError("UNAVAILABLE", "this connection fell too far behind; reconnect and resume", {
          reason: "outbound_backlog",
          burst_bytes: limits.outboundBurstBytes,
        }),
      ),
    );
  }

  /**
   * Per socket only what must be: a map lookup for its attachment, the audience check (skipped
   * for events to everyone), the outbound budget (one clock read for the whole broadcast) and the
   * send. Each event is serialized at most twice (DM view, player view), whatever the socket count.
   */
  broadcast(events: StoredEvent[]): void {
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

  /** A serialized frame to every joined socket whose participant is in the audience (streams). */
  sendTo(audience: Audience, frame: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      const att = this.attachment(ws);
      if (att.joined && inAudience(audience, att.participant_id, att.role)) this.sendRaw(ws, frame);
    }
  }

  /**
   * An event as one role may see it. An event that cannot be serialized (validation should make
   * that impossible) becomes an Error frame naming its seq, so only that frame is lost — and the
   * client knows which one — instead of the broadcast or the replay stopping there.
   */
  eventFrame(e: StoredEvent, role: Role): string {
    try {
      return JSON.stringify({ type: "Event", seq: e.seq, event: viewFor(role, e.event), cause: e.cause });
    } catch (err) {
      console.error(JSON.stringify({ msg: "event not serializable", seq: e.seq, type: e.event.type, error: String(err) }));
      return JSON.stringify({
        type: "Error",
        ...new AppError("INTERNAL", `event ${e.seq} could not be delivered; reload with GetSessionSnapshot`, { seq: e.seq }).toBody(),
      });
    }
  }

  /** Sends a Response, split into ResponseChunks when larger than the outbound frame limit. */
  respond(ws: WebSocket, role: Role, requestId: string, result: Result): void {
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

  /** The last frame (an Error saying why), then the close. */
  refuse(ws: WebSocket, code: number, reason: string | AppError): void {
    const e = typeof reason === "string" ? new AppError("UNAUTHENTICATED", reason) : reason;
    this.outbound.sendFinal(ws, JSON.stringify({ type: "Error", ...e.toBody() }));
    try {
      ws.close(code, e.message);
    } catch {
      // already closing
    }
  }

  sendError(ws: WebSocket, code: ErrorBody["code"], message: string, details?: Record<string, unknown>): void {
    this.send(ws, { type: "Error", ...new AppError(code, message, details).toBody() });
  }

  send(ws: WebSocket, frame: unknown): void {
    this.sendRaw(ws, JSON.stringify(frame));
  }

  sendRaw(ws: WebSocket, text: string): void {
    this.outbound.send(ws, text);
  }
}
