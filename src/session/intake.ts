import type { Limits } from "../env";
import type { Actor } from "../engine/authorize";
import { AppError, ClientFrameSchema, CLOSE_CODES, RequestIdSchema, frameLimitOf, invalidField } from "../protocol";
import { kickedError, type Connections } from "./connections";
import { utf8Size, type Attachment } from "./delivery";

/** Inbound metering: every frame costs one token, plus one per this many bytes. */
const METER_BYTES_PER_TOKEN = 64 * 1024;

/** The request_id of a frame too large or too frequent to parse, if it can be seen at its start. */
function peekRequestId(text: string): string | undefined {
  return /"request_id"\s*:\s*"([^"\\]{1,128})"/.exec(text.slice(0, 512))?.[1];
}

export interface IntakeDeps {
  limits: Limits;
  connections: Connections;
  isKicked(participantId: string): boolean;
  /** A Request that passed the checks: answered by the router. */
  request(ws: WebSocket, att: Attachment, actor: Actor, requestId: string, payload: { type?: unknown }): Promise<void>;
  join(ws: WebSocket, att: Attachment, lastSeq: number | undefined): Promise<void>;
}

/**
 * Every inbound frame: metered first (per participant, whatever the frame is), then checked
 * (token, kick, size, JSON, frame type, requests in progress), then handed on.
 */
export class Intake {
  /** Inbound metering per participant (not per socket: more sockets buy no more throughput). */
  private readonly meters = new Map<string, { tokens: number; at: number; inflight: number }>();

  constructor(private readonly deps: IntakeDeps) {}

  async receive(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const { limits, connections } = this.deps;
    const out = connections.delivery;
    const att = connections.attachment(ws);
    connections.markSeen(ws, Date.now());
    if (Date.now() >= att.exp) return out.refuse(ws, CLOSE_CODES.UNAUTHENTICATED, "token expired: refresh it and reconnect");
    if (this.deps.isKicked(att.participant_id)) return out.refuse(ws, CLOSE_CODES.KICKED, kickedError());

    const text = typeof message === "string" ? message : "";
    const bytes = typeof message === "string" ? utf8Size(message, Math.min(limits.maxFrameBytes, limits.maxBatchFrameBytes)) : message.byteLength;
    // Answers a Request whose id can be seen cheaply, else sends an Error frame: for frames refused unread.
    const refuseFrame = (e: AppError) => {
      const id = peekRequestId(text);
      return id ? out.respond(ws, att.role, id, { status: "error", ...e.toBody() }) : out.send(ws, { type: "Error", ...e.toBody() });
    };
    const wait = this.meter(att.participant_id, 1 + Math.floor(bytes / METER_BYTES_PER_TOKEN));
    if (wait > 0) return refuseFrame(new AppError("RATE_LIMITED", `too many frames; retry in ${wait} ms`, { retry_after_ms: wait }));
    if (typeof message !== "string") return out.sendError(ws, "BAD_FRAME", "binary frames are not supported; send JSON text");
    if (bytes > limits.maxBatchFrameBytes) {
      return refuseFrame(
        new AppError("PAYLOAD_TOO_LARGE", `frame of ${bytes} bytes exceeds ${limits.maxBatchFrameBytes}`, { limit: limits.maxBatchFrameBytes }),
      );
    }

    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return out.sendError(ws, "BAD_FRAME", "frame is not valid JSON");
    }
    const frameType = (json as { type?: unknown } | null)?.type;
    if (frameType === "Request") {
      const req = json as { request_id?: unknown; payload?: unknown };
      const id = RequestIdSchema.safeParse(req.request_id);
      if (!id.success) return out.sendError(ws, "BAD_FRAME", "Request has no usable request_id (a string of 1–128 characters)");
      const requestId = id.data;
      const fail = (e: AppError) => out.respond(ws, att.role, requestId, { status: "error", ...e.toBody() });
      const payload = req.payload as { type?: unknown } | undefined;
      if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
        return fail(invalidField("payload", "expected an object with a type"));
      }
      // Operations that carry many entities at once (Batch, ImportWorld) declare the larger cap.
      const limit = frameLimitOf(payload.type) === "batch" ? limits.maxBatchFrameBytes : limits.maxFrameBytes;
      if (bytes > limit) return fail(new AppError("PAYLOAD_TOO_LARGE", `frame of ${bytes} bytes exceeds ${limit}`, { limit }));
      const meter = this.meterOf(att.participant_id);
      if (meter.inflight >= limits.maxInflightPerParticipant) {
        const max = limits.maxInflightPerParticipant;
        return fail(new AppError("RATE_LIMITED", `${max} requests of this participant are already in progress`, { retry_after_ms: 100, limit: max }));
      }
      meter.inflight++;
      try {
        await this.deps.request(ws, att, { participant_id: att.participant_id, role: att.role }, requestId, payload);
      } finally {
        meter.inflight--;
      }
      return;
    }
    const frame = ClientFrameSchema.safeParse(json);
    if (!frame.success) return out.sendError(ws, "BAD_FRAME", `not a client frame: ${frame.error.issues[0]?.message ?? "unknown type"}`);
    if (frame.data.type === "JoinSession") return this.deps.join(ws, att, frame.data.last_seq);
    // Ack: the log in D1 is every client's buffer, so there is nothing to trim per connection.
  }

  private meterOf(participantId: string) {
    let m = this.meters.get(participantId);
    if (!m) this.meters.set(participantId, (m = { tokens: this.deps.limits.rateBurst, at: Date.now(), inflight: 0 }));
    return m;
  }

  /**
   * Token bucket per participant (every socket of it draws from the same one): takes `cost` tokens
   * and returns 0, or returns the ms until they will be there (taking nothing).
   */
  private meter(participantId: string, cost: number): number {
    const { ratePerSecond: rate, rateBurst: burst } = this.deps.limits;
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
}
