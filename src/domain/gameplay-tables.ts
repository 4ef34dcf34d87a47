import {
  ActantialViewSchema,
  ChallengeAttemptSchema,
  ChallengeSchema,
  StagingSchema,
  WantSchema,
  type ActantialView,
  type Challenge,
  type Want,
} from "../protocol";
import type { EntityKind } from "./changes";
import { Table } from "../engine/store";

/** Tables and entity kinds of the gameplay rules (actantial model, challenges, staging). */

export const wants = Table.of("wants", WantSchema);
export const actantialViews = Table.of("actantial_views", ActantialViewSchema);
export const challenges = Table.of("challenges", ChallengeSchema);
export const challengeAttempts = Table.of("challenge_attempts", ChallengeAttemptSchema);
export const stagings = Table.of("stagings", StagingSchema);

export const WANT: EntityKind<Want> = {
  table: wants,
  what: "want",
  events: { created: "NpcWantCreated", updated: "NpcWantUpdated", deleted: "NpcWantDeleted", key: "want", idKey: "want_id" },
  dmOnly: true,
};

export const ACTANTIAL_VIEW: EntityKind<ActantialView> = {
  table: actantialViews,
  what: "actantial view",
  events: { created: "ActantialViewAdded", updated: "ActantialViewAdded", deleted: "ActantialViewRemoved", key: "actantial_view", idKey: "actantial_view_id" },
  dmOnly: true,
};

export const CHALLENGE: EntityKind<Challenge> = {
  table: challenges,
  what: "challenge",
  events: { created: "ChallengeCreated", updated: "ChallengeUpdated", deleted: "ChallengeDeleted", key: "challenge", idKey: "challenge_id" },
  hidden: (c) => c.hidden,
  // The outcome texts are the DM's until an attempt is resolved.
  playerView: ({ outcomes: _outcomes, ...c }) => c,
};
