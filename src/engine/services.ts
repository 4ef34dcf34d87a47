import type { AppError, SessionSettings } from "../protocol";
import type { ParticipantRow } from "./participants";
import type { Audience } from "./tx";

/**
 * A live stream of text to an audience (`Stream` frames, ordered by index). Always ended with
 * `done: true` — also on failure or cancellation. Live only: the final text belongs in the
 * committed event that ends the work, for clients that were not connected.
 */
export interface ServerStream {
  readonly id: string;
  readonly ended: boolean;
  send(delta: string): void;
  /** The last frame (`done: true`), with an optional last delta. Later calls do nothing. */
  end(delta?: string): void;
  /**
   * From now on DMs only: every non-DM of the audience gets the stream's end now (`done: true`,
   * an empty delta), DMs go on receiving it. Nothing when it goes to DMs only already, or ended.
   */
  toDmsOnly(): void;
}

/** What the session object offers handlers beyond D1 (its in-memory state and sockets). */
export interface SessionServices {
  readonly sessionId: string;
  readonly worldId: string;
  settings: SessionSettings;
  readonly seq: number;
  onlineParticipantIds(): Set<string>;
  isKicked(participantId: string): boolean;
  /** A participant of this session, from the object's roster (it writes every participant row). */
  participant(participantId: string): ParticipantRow | undefined;
  /** The first `limit` participants, in creation order. */
  roster(limit: number): ParticipantRow[];
  /** Keeps the roster current after a committed change of a participant. */
  rememberParticipant(row: ParticipantRow): void;
  closeParticipant(participantId: string, code: number, reason: AppError): void;
  /** A new live stream to `audience` (`id`: the stream_id clients know, e.g. a job id). */
  openStream(audience: Audience, id?: string): ServerStream;
}
