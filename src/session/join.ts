import type { Limits } from "../env";
import type { SessionServices } from "../engine/context";
import { ROSTER_PAGE, requireParticipant, toParticipant } from "../engine/participants";
import type { AnyEvent, EventType } from "../protocol";
import type { Connections } from "./connections";
import type { Attachment } from "./delivery";
import type { EventLog } from "./eventlog";
import type { Metrics } from "./metrics";
import type { Pipeline } from "./pipeline";
import { inAudience } from "./redact";

export interface JoinsDeps {
  limits: Limits;
  session: SessionServices;
  connections: Connections;
  pipeline: Pipeline;
  metrics: Metrics;
  log(): EventLog;
}

const PRESENCE_EVENTS: ReadonlySet<EventType> = new Set(["ParticipantJoined", "ParticipantLeft"]);

/** JoinSession (replay, then live) and the matching leave: who is online, as everyone sees it. */
export class Joins {
  /** Sockets whose JoinSession is replaying: a second JoinSession meanwhile is refused too. */
  private readonly joining = new WeakSet<WebSocket>();

  constructor(private readonly deps: JoinsDeps) {}

  /**
   * JoinSession: replay what this participant may see after last_seq, then go live. Runs beside the
   * write queue, never in it: it replays up to the last broadcast seq (again while commits move it
   * on), and turns live in the same synchronous step as its last check, so every event arrives
   * exactly once — replayed if broadcast before, live if after.
   */
  async join(ws: WebSocket, att: Attachment, lastSeq: number | undefined): Promise<void> {
    const { connections, session, limits, metrics } = this.deps;
    const out = connections.delivery;
    if (att.joined || this.joining.has(ws)) {
      return out.sendError(ws, "CONFLICT", "this connection has already joined the session", { reason: "already_joined" });
    }
    this.joining.add(ws);
    try {
      const log = this.deps.log();
      let resume: "replayed" | "snapshot" = "snapshot";
      let count = 0;
      let upTo = out.broadcastSeq;
      const replayable = lastSeq !== undefined && lastSeq <= upTo && upTo - lastSeq <= limits.replayMaxEvents;
      if (replayable && (lastSeq === upTo || lastSeq >= ((await log.oldestSeq()) ?? Infinity) - 1)) {
        resume = "replayed";
        upTo = lastSeq;
        while (upTo < out.broadcastSeq) {
          const until = out.broadcastSeq;
          for await (const e of log.between(upTo, until)) {
            if (!inAudience(e.audience, att.participant_id, att.role)) continue;
            out.sendRaw(ws, out.eventFrame(e, att.role));
            count++;
          }
          upTo = until;
        }
        metrics.replayedEvent(count);
      }
      if (ws.readyState !== WebSocket.OPEN) return;
      // From here to the send of SessionJoined nothing awaits: no broadcast can slip in between.
      const wasOnline = connections.onlineParticipantIds(ws).has(att.participant_id);
      att.joined = true;
      connections.save(ws, att);
      const online = connections.onlineParticipantIds();
      const participant = toParticipant(requireParticipant(session, att.participant_id), session, online);
      out.send(ws, {
        type: "SessionJoined",
        session_id: session.sessionId,
        world_id: session.worldId,
        participant,
        participants: session.roster(ROSTER_PAGE).map((r) => toParticipant(r, session, online)),
        seq: resume === "replayed" ? upTo : out.broadcastSeq,
        resume,
        replayed_events: count,
      });
      if (!wasOnline) await this.announce({ type: "ParticipantJoined", participant }, att);
    } finally {
      this.joining.delete(ws);
    }
  }

  /** A socket went away: when it was its participant's last, everyone learns it left. */
  async left(ws: WebSocket): Promise<void> {
    const { connections } = this.deps;
    const att = connections.attachment(ws);
    if (!att.joined) return;
    att.joined = false;
    connections.forget(ws, att);
    if (connections.onlineParticipantIds(ws).has(att.participant_id)) return;
    await this.announce({ type: "ParticipantLeft", participant_id: att.participant_id }, att);
  }

  /** Who is online is the session's own write, committed through the pipeline like any other. */
  private async announce(event: AnyEvent, by: Attachment): Promise<void> {
    try {
      await this.deps.pipeline.write({ participant_id: by.participant_id, role: by.role }, event.type, PRESENCE_EVENTS, async (ctx) => void ctx.tx.emit(event));
    } catch (err) {
      console.error(JSON.stringify({ msg: "system commit failed", what: event.type, error: String(err) }));
    }
  }
}
