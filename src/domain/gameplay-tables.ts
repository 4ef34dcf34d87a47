import type { ActantialView, Challenge, ChallengeAttempt, Staging, Want } from "../protocol";
import type { EntityKind } from "./changes";
import { Table } from "../engine/store";

/** Tables and entity kinds of the gameplay rules (actantial model, challenges, staging). */

export const wants = new Table<Want>(
  "wants",
  ["world_id", "character_id", "description", "intensity", "visibility", "deflection_behavior", "tells", "priority", "target"],
  { json: ["tells", "target"] },
);

export const actantialViews = new Table<ActantialView>("actantial_views", [
  "world_id", "character_id", "want_id", "target_character_id", "role", "reason",
]);

export const challenges = new Table<Challenge>(
  "challenges",
  ["world_id", "name", "description", "check_stat", "difficulty", "outcomes", "hidden"],
  { json: ["difficulty", "outcomes"], bool: ["hidden"] },
);

export const challengeAttempts = new Table<ChallengeAttempt>(
  "challenge_attempts",
  ["world_id", "challenge_id", "character_id", "participant_id", "status", "suggested_dice", "roll", "modifier", "total", "suggested_outcome", "outcome", "narration"],
  { json: ["roll"] },
);

export const stagings = new Table<Staging>(
  "stagings",
  ["world_id", "region_id", "status", "proposal", "npcs", "source", "ttl_minutes", "approved_at", "expires_at", "approved_by", "waiting_character_ids", "auto_approve_at"],
  { json: ["proposal", "npcs", "waiting_character_ids"] },
);

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
