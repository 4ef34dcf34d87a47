import { PlayLogEntrySchema, RegionPresenceSchema } from "../play-entities";

export const PLAY_EVENTS = {
  /** One new play log entry, to its audience (the same entry ListPlayLog returns: de-duplicate by id). */
  PlayLogged: { entry: PlayLogEntrySchema },
  /**
   * A region's presence changed (staging pending or approved, a PC arrived or left). DMs get the
   * whole presence, everyone else the players' copy (no hidden NPC).
   */
  RegionPresenceChanged: { presence: RegionPresenceSchema },
} as const;
