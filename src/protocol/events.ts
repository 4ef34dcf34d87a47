import { z } from "zod";
import { CHARACTER_EVENTS, SESSION_EVENTS } from "./events/session";
import { JOB_EVENTS } from "./events/jobs";
import { ACTANTIAL_EVENTS, CHALLENGE_EVENTS, DICE_EVENTS, STAGING_EVENTS } from "./events/gameplay";
import { DIALOGUE_EVENTS } from "./events/dialogue";
import { IMAGE_EVENTS } from "./events/images";
import { PLAY_EVENTS } from "./events/play";
import { GOAL_EVENTS, LOCATION_EVENTS, PROMPT_EVENTS, SCENE_EVENTS, STORY_EVENTS, WORLD_EVENTS } from "./events/world";

/**
 * Every event the session broadcasts, by `type`. Events carry entities under their snake_case
 * name (`CharacterCreated{character}`); deletions carry the id.
 */
export const EVENTS = {
  ...SESSION_EVENTS,
  ...CHARACTER_EVENTS,
  ...WORLD_EVENTS,
  ...LOCATION_EVENTS,
  ...SCENE_EVENTS,
  ...GOAL_EVENTS,
  ...STORY_EVENTS,
  ...PROMPT_EVENTS,
  ...JOB_EVENTS,
  ...ACTANTIAL_EVENTS,
  ...DICE_EVENTS,
  ...CHALLENGE_EVENTS,
  ...STAGING_EVENTS,
  ...DIALOGUE_EVENTS,
  ...IMAGE_EVENTS,
  ...PLAY_EVENTS,
} as const;

export type EventType = keyof typeof EVENTS;
export type EventOf<K extends EventType> = { type: K } & z.infer<z.ZodObject<(typeof EVENTS)[K]>>;
export type AnyEvent = { [K in EventType]: EventOf<K> }[EventType];

const eventSchemas = Object.entries(EVENTS).map(([type, shape]) => z.object({ type: z.literal(type), ...shape })) as unknown as [z.ZodObject, ...z.ZodObject[]];

export const EventSchema = z.discriminatedUnion("type", eventSchemas) as unknown as z.ZodType<AnyEvent>;
