import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import { StoryEventFieldsSchema, StoryEventKindSchema, StoryEventSchema } from "../world-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

const Time = z.number().int().min(0);

/** The timeline: newest first; hidden entries exist for DMs only. */
export const STORY_OPS = {
  ListStoryEvents: op({
    access: "read",
    input: {
      kind: StoryEventKindSchema.optional(),
      character_id: Id.optional(),
      /** Time range on created_at (ms since epoch), both ends inclusive. */
      from: Time.optional(),
      to: Time.optional(),
      ...PageParams,
    },
    output: pageOf(StoryEventSchema),
  }),
  GetStoryEvent: op({ access: "read", input: { story_event_id: Id }, output: StoryEventSchema }),
  /** DM: a marker on the timeline (kind dm_marker unless another is given). */
  CreateStoryEvent: op({
    access: "dm",
    write: true,
    events: ["StoryEventCreated", "PlayLogged"],
    input: {
      data: StoryEventFieldsSchema.partial()
        .required({ summary: true })
        .extend({ kind: StoryEventKindSchema.optional(), hidden: z.boolean().optional() })
        .strict(),
    },
    output: StoryEventSchema,
  }),
  UpdateStoryEvent: op({
    access: "dm",
    write: true,
    events: ["StoryEventUpdated"],
    input: { story_event_id: Id, data: StoryEventFieldsSchema.partial().strict(), ...ExpectedVersion },
    output: StoryEventSchema,
  }),
  /** Hiding an entry is a deletion for players, revealing it a creation. */
  SetStoryEventVisibility: op({
    access: "dm",
    write: true,
    events: ["StoryEventUpdated", "StoryEventCreated", "StoryEventDeleted"],
    input: { story_event_id: Id, hidden: z.boolean(), ...ExpectedVersion },
    output: StoryEventSchema,
  }),
  DeleteStoryEvent: op({
    access: "dm",
    write: true,
    events: ["StoryEventDeleted"],
    input: { story_event_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),
} as const;
